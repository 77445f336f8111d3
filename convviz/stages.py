"""The catalog: one record per page and one per stage the pages draw. Everything else derives from it.

A stage is a trace a page animates (its builder, the figure's rows, the clickable panel, the engine code shown under
the figure, the "Code for this view" script, its section of docs/teaching.md). The app's page list, its caches,
the exports, the benchmarks and the tests all read these records, so a new stage is its builder, its page file,
a record here and its tests. NumPy only: no Streamlit or Plotly (tests and benchmarks import it without them).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import traces as T
from .conv import (
    backward_col2im,
    backward_loops,
    backward_transposed,
    conv_transpose2d,
    dilate,
    flip_kernel,
    forward_im2col,
    forward_loops,
    forward_strided,
    transposed_pads,
)
from .data import make_dout
from .geometry import ConvSpec, same_padding_1d
from .gradcheck import GradCheck, check_conv2d, numerical_gradient
from .grouped import connection_matrix
from .im2col import col2im_add_at, col2im_assign_bug, col2im_padded, im2col_gather, im2col_indices, im2col_matrix, window_view
from .network import NetSpec, backward, forward, layer_backward, layer_forward, reach_1d, receptive_field
from .pool import avg_pool2d_backward_spec, avg_pool2d_spec, avg_pool_divisors, max_pool2d_argmax, max_pool2d_backward_spec, pool_spec
from .traces.base import Trace
from .transposed import direct_transposed, scatter_full, zero_insert_pad

STEP_BUDGET = 400  # animation steps kept per trace at most; longer walks are sampled evenly
TEACHING_NOTES = "docs/teaching.md"  # the project's teaching notes, one section per stage


@dataclass(frozen=True)
class Arrays:
    """A layer's data: input x (N, C, H, W), kernels w (F, C/groups, KH, KW), biases b (F,), upstream gradient dout."""

    x: np.ndarray
    w: np.ndarray
    b: np.ndarray
    dout: np.ndarray


@dataclass(frozen=True)
class Page:
    """A page of the app: its URL path (equal to its file's stem, see convviz/ui/shell.py), title and icon.

    layer_controls: whether the page reads the sidebar's layer groups (F, kernel size, stride, dilation, padding, the
    kernel and bias data, the upstream gradient; convviz.ui.controls.LAYER_FIELDS). A page that does not (the
    network's layers are its own text) gets no such controls, and their values wait, kept, for the pages that do.
    """

    url_path: str
    title: str
    icon: str
    layer_controls: bool = True

    @property
    def path(self) -> str:
        return f"pages/{self.url_path}.py"


PAGES = (
    Page("shapes", "Shapes & edge cases", "📐"),
    Page("forward", "Forward pass", "➡️"),
    Page("im2col", "im2col", "🧮"),
    Page("strided", "Strided windows", "🪟"),
    Page("input_gradient", "Input gradient (transposed)", "🔄"),
    Page("col2im", "col2im (scatter-add)", "➕"),
    Page("weight_gradient", "Weight & bias gradients", "⚖️"),
    Page("conv_transpose", "Transposed convolution", "🔃"),
    Page("grouped", "Grouped & depthwise", "🧩"),
    Page("maxpool", "Pooling: max & average", "🔝"),
    Page("network", "A small network", "🕸️", layer_controls=False),
    Page("gradcheck", "Gradient check", "✅"),
    Page("methods", "Methods & speed", "⏱️"),
    Page("bug_lab", "Bug lab", "🐞"),
)
PAGE = {p.url_path: p for p in PAGES}


@dataclass(frozen=True)
class Stage:
    """One animated stage.

    name: the trace's stage name (Trace.stage), the caches' and exports' key.
    page: the url_path of the page that draws it.
    build: (layer, arrays, **options) -> Trace, the options being the page's picks (n, f, c) and own settings.
    layer: the layer's geometry from the app's settings (the forward convolution's ConvSpec unless said otherwise).
    kind: the layer build takes: "conv" (a ConvSpec), "pool" (a pooling ConvSpec, pool_spec's), "transposed" (a
        TransposedSpec) or "network" (a NetSpec, convviz.network's stack); its arrays are the layer's own (a pooling
        stage's dout has the pooled output's shape).
    reads: the arrays build reads, of x, w, b and dout.
    upstream: the app's upstream gradient for a stage whose dout is not the convolution's (pooling), from its layer.
    grouped: whether the stage draws grouped layers (the transposed convolution's page does not: groups = 1 there).
    rows: the figure's rows of panel names, as the page lays them out on a wide screen; or a function of the trace
        giving them, for a stage whose panels depend on the settings (the network's layers). See `rows_of`.
    clickable: the panel whose cells jump to their step, if any.
    code: the engine functions shown under the figure ("The engine's NumPy code for this stage").
    script: the codegen script that reproduces the stage ("Code for this view"; a key of convviz.codegen.SCRIPTS).
    notes: the heading of its section in docs/teaching.md.
    example: settings -> the settings its page draws: the same, or an example where they show nothing to see (grouped
        convolution with one input or output channel). See `shown_settings`.
    """

    name: str
    page: str
    build: Callable[..., Trace]
    rows: tuple[tuple[str, ...], ...] | Callable[[Trace], tuple[tuple[str, ...], ...]]
    code: tuple[Callable, ...]
    script: str
    notes: str
    clickable: str | None = None
    options: tuple[str, ...] = field(default=())  # the picks build accepts, e.g. ("n", "f")
    layer: Callable = field(default=lambda settings: settings.spec())
    kind: str = "conv"
    reads: tuple[str, ...] = ("x", "w")
    upstream: Callable | None = None
    grouped: bool = True  # drawn for the settings' groups; False: for groups = 1 whatever the settings say
    example: Callable | None = None  # settings -> the settings the page draws instead when those show nothing

    def rows_of(self, trace: Trace) -> tuple[tuple[str, ...], ...]:
        """The figure's rows for this trace: the record's, or all panels in one row when it names none."""
        rows = self.rows(trace) if callable(self.rows) else self.rows
        return rows or (tuple(p.name for p in trace.panels),)

    def shown_settings(self, settings):
        """The settings the stage's page draws for the sidebar's `settings`."""
        return self.example(settings) if self.example else settings

    def settings_for(self, settings):
        """The settings this stage is drawn for: the app's, with groups = 1 unless the stage draws grouped layers."""
        return settings if self.grouped else settings.with_(groups=1)

    def trace_for(self, settings, arrays_of: Callable, **options) -> Trace:
        """The stage's trace for the app's settings: its layer, the data `arrays_of(settings)` makes (with the
        stage's own upstream gradient when it has one), and the picks in `options`."""
        settings = self.settings_for(settings)
        layer, arrays = self.layer(settings), arrays_of(settings)
        if self.upstream:  # e.g. pooling: the pooled output's own upstream gradient
            arrays = dataclasses.replace(arrays, dout=self.upstream(layer))
        return self.build(layer, arrays, **options)


def _makes_a_layer(settings) -> bool:
    try:
        settings.spec()
    except ValueError:
        return False
    return True


def grouped_example(settings):
    """`settings`, or, where they have one input or output channel (nothing to group), C = 2, F = 4, groups = 2 on
    random data: on a 4 x 4 input when the kernel fits it (20 px cells on a phone, the 4 output channels side by
    side)."""
    spec = settings.spec()
    if spec.c > 1 and spec.f > 1:
        return settings
    example = settings.with_(cin=2, cout=4, groups=2, data="random")
    return next((s for s in (example.with_(h=4, w=4), example) if _makes_a_layer(s)), example)


def pooling_of(spec: ConvSpec) -> ConvSpec:
    """The pooling layer the pooling page draws for the sidebar's layer: its window, stride and dilation, and its
    padding on each side as the top/left padding capped at half the window (PyTorch pads pooling symmetrically and
    allows at most kernel // 2). Raises ValueError when no valid pooling follows (e.g. a padding-only window)."""
    return pool_spec(spec.input_shape, spec.kernel_size, spec.stride,
                     (min(spec.top, spec.kh // 2), min(spec.left, spec.kw // 2)), spec.dilation)


POOL_DOUT_SEED = 7  # the pooled output's upstream gradient (the layer's dout has the convolution's shape)


def _pool_layer(settings) -> ConvSpec:
    return pooling_of(settings.spec())


def _pool_upstream(ps: ConvSpec) -> np.ndarray:
    return make_dout(ps.output_shape, POOL_DOUT_SEED)


def _maxpool(ps, a, n=0, c=0):
    return T.maxpool_trace(a.x, a.dout, ps, n=n, c=c, max_steps=STEP_BUDGET)


GRADCHECK_SAMPLE = 200  # central-difference estimates per array when the caller sets no budget (two passes each)


def _avgpool(ps, a, n=0, c=0, cip="true"):
    if ps.dilation != (1, 1):
        raise ValueError(f"dilation: average pooling has none (PyTorch's avg_pool2d takes no dilation), and these settings "
                         f"have {ps.dilation}. Set DH and DW to 1 to see it, or choose max pooling.")
    return T.avgpool_trace(a.x, a.dout, ps, n=n, c=c, max_steps=STEP_BUDGET, count_include_pad=cip == "true")


def transposed_weights(a) -> np.ndarray:
    """The sidebar's kernels (F, C, KH, KW) in a transposed layer's layout (CIN, COUT, KH, KW): input channel c of the
    transposed layer is the sidebar's C, its output channel f the sidebar's F."""
    return a.w.transpose(1, 0, 2, 3)


def _tconv(trace):
    def build(tspec, a, n=0, c=0, f=0):
        return trace(a.x, transposed_weights(a), tspec, n=n, cin=c, cout=f, max_steps=STEP_BUDGET)
    return build


def _transposed_layer(settings):
    return settings.transposed()


def network_of(settings) -> NetSpec:
    """The network page's stack (settings.net) on the sidebar's input (N, C, H, W); raises NetError with the fix."""
    return NetSpec.create(settings.net, (settings.n, settings.cin, settings.h, settings.w))


def network_cell(settings, ns: NetSpec) -> tuple[int, int, int, int]:
    """(n, f, i, j): the output cell the network page's one-hot gradient starts from: sample 0, and the settings'
    channel rf and (ri, rj), each held inside the output."""
    _, fo, oh, ow = ns.output_shape
    return 0, min(settings.rf, fo - 1), min(settings.ri, oh - 1), min(settings.rj, ow - 1)


def _network(ns: NetSpec, a, n=0, f=0, i=0, j=0, seed=0, rc=None):
    return T.network_trace(a.x, ns, seed=seed, n=n, f=f, i=i, j=j, rc=rc)


def _network_rows(trace: Trace) -> tuple[tuple[str, ...], ...]:
    """The activations a0..aL over their gradients g0..gL, the weight-free path counts beside g0's row."""
    names = [p.name for p in trace.panels]
    return (tuple(x for x in names if x.startswith("a")), tuple(x for x in names if x.startswith("g")) + ("paths",))


def _gradcheck(spec, a, n=0, f=0, max_entries=GRADCHECK_SAMPLE, progress=None):
    return T.gradcheck_trace(a.x, a.w, a.b, a.dout, spec, n=n, f=f, progress=progress, max_entries=max_entries)


STAGE_LIST = (
    Stage("shapes", "shapes", lambda spec, a: T.shapes_trace(spec), rows=(), code=(ConvSpec.coverage, same_padding_1d),
          script="shapes", notes="Shapes and edge cases"),
    Stage("forward", "forward",
          lambda spec, a, n=0, f=0: T.forward_trace(a.x, a.w, a.b, spec, n=n, f=f, max_steps=STEP_BUDGET),
          rows=(("xpad", "w"), ("products", "y")), clickable="y", code=(forward_loops,), script="forward",
          notes="Forward pass: the sliding window", options=("n", "f"), reads=("x", "w", "b")),
    Stage("im2col_indices", "im2col", lambda spec, a: T.im2col_index_trace(spec),
          rows=(("i0", "i1", "i"), ("k", "j0", "j1", "j")), code=(im2col_indices,), script="im2col",
          notes="im2col: index arrays, the gather, one matrix product"),
    Stage("im2col_gather", "im2col", lambda spec, a, n=0: T.im2col_gather_trace(a.x, spec, n=n, max_steps=STEP_BUDGET),
          rows=(("xpad",), ("cols",)), code=(im2col_gather, im2col_matrix), script="im2col",
          notes="im2col: index arrays, the gather, one matrix product", options=("n",)),
    Stage("im2col_product", "im2col",
          lambda spec, a, n=0: T.im2col_product_trace(a.x, a.w, a.b, spec, n=n, max_steps=STEP_BUDGET),
          rows=(("W", "cols"), ("Y",), ("y",)), clickable="y", code=(forward_im2col,), script="im2col",
          notes="im2col: index arrays, the gather, one matrix product", options=("n",), reads=("x", "w", "b")),
    Stage("strided", "strided", lambda spec, a, n=0: T.strided_trace(a.x, spec, n=n, max_steps=STEP_BUDGET),
          rows=(("xpad", "offsets"), ("window",)), clickable="xpad", code=(window_view, forward_strided),
          script="strided", notes="Strided windows", options=("n",)),
    Stage("transposed", "input_gradient",
          lambda spec, a, n=0, c=0: T.transposed_trace(a.x, a.w, a.dout, spec, n=n, c=c, max_steps=STEP_BUDGET),
          rows=(("dout", "dilated"), ("padded", "wflip"), ("dxpad", "dx")), clickable="dxpad",
          code=(dilate, transposed_pads, flip_kernel, backward_transposed), script="transposed",
          notes="Input gradient: dilate, pad, rotate, slide, crop", options=("n", "c"), reads=("x", "w", "dout")),
    Stage("col2im", "col2im", lambda spec, a, n=0: T.col2im_trace(a.x, a.w, a.dout, spec, n=n, max_steps=STEP_BUDGET),
          rows=(("dcols",), ("acc", "count"), ("dx", "wrong")),
          code=(backward_col2im, col2im_padded, col2im_add_at, col2im_assign_bug), script="col2im",
          notes="col2im: the input gradient by scatter-add", options=("n",), reads=("x", "w", "dout")),
    Stage("weight_grad", "weight_gradient", lambda spec, a, n=0, f=0: T.weight_grad_trace(a.x, a.w, a.dout, spec, n=n, f=f),
          rows=(("xpad", "dd"), ("dw", "db")), clickable="dw", code=(backward_col2im, backward_loops),
          script="weight_grad", notes="Weight and bias gradients", options=("n", "f"), reads=("x", "w", "dout")),
    Stage("tconv_scatter", "conv_transpose", _tconv(T.tconv_scatter_trace),
          rows=(("x", "w", "stamp"), ("full", "count", "y")), clickable="x", code=(scatter_full,),
          script="conv_transpose", notes="Transposed convolution", options=("n", "c", "f"), layer=_transposed_layer,
          kind="transposed", grouped=False),
    Stage("tconv_direct", "conv_transpose", _tconv(T.tconv_direct_trace),
          rows=(("x", "wrot"), ("z", "products", "y")), clickable="y", code=(zero_insert_pad, direct_transposed),
          script="conv_transpose", notes="Transposed convolution", options=("n", "c", "f"), layer=_transposed_layer,
          kind="transposed", grouped=False),
    Stage("tconv_gradient", "conv_transpose", _tconv(T.tconv_gradient_trace),
          rows=(("dout", "dilated"), ("padded", "wflip"), ("dxpad", "dx")), clickable="dxpad",
          code=(conv_transpose2d,), script="conv_transpose", notes="Transposed convolution", options=("n", "c", "f"),
          layer=_transposed_layer, kind="transposed", grouped=False),
    Stage("groups", "grouped", lambda spec, a, n=0: T.groups_trace(a.x, a.w, a.b, spec, n=n, max_steps=STEP_BUDGET),
          rows=(("connections", "x"), ("w", "y")), clickable="connections", code=(connection_matrix, forward_loops),
          script="groups", notes="Grouped and depthwise convolution", options=("n",), reads=("x", "w", "b"),
          example=grouped_example),
    Stage("maxpool", "maxpool", _maxpool, rows=(("x", "y", "dout"), ("dx",)), clickable="y",
          code=(max_pool2d_argmax, max_pool2d_backward_spec), script="maxpool", notes="Max pooling", options=("n", "c"),
          layer=_pool_layer, kind="pool", reads=("x", "dout"), upstream=_pool_upstream),
    Stage("avgpool", "maxpool", _avgpool, rows=(("x", "y", "dout"), ("dx", "divisor")), clickable="y",
          code=(avg_pool_divisors, avg_pool2d_spec, avg_pool2d_backward_spec), script="avgpool",
          notes="Average pooling", options=("n", "c", "cip"),
          layer=_pool_layer, kind="pool", reads=("x", "dout"), upstream=_pool_upstream),
    Stage("network", "network", _network, rows=_network_rows,
          code=(layer_forward, layer_backward, forward, backward, receptive_field, reach_1d),
          script="network", notes="A network: receptive fields and backpropagation through layers",
          options=("n", "f", "i", "j", "seed", "rc"), layer=network_of, kind="network", reads=("x",)),
    Stage("gradcheck", "gradcheck", _gradcheck,
          rows=(("dx_a", "dx_n", "dx_e"), ("dw_a", "dw_n", "dw_e"), ("db_a", "db_n", "db_e")),
          code=(numerical_gradient, check_conv2d, GradCheck), script="gradcheck", notes="Gradient check",
          options=("n", "f", "max_entries"), reads=("x", "w", "b", "dout")),
)
STAGES: dict[str, Stage] = {s.name: s for s in STAGE_LIST}


def stages_of(url_path: str) -> tuple[Stage, ...]:
    """The stages a page draws, in the order it shows them."""
    return tuple(s for s in STAGE_LIST if s.page == url_path)


def _check_catalog() -> None:
    """The records agree with each other: unique names, every stage on a known page."""
    assert len(STAGES) == len(STAGE_LIST), "two stages share a name"
    assert len(PAGE) == len(PAGES), "two pages share a url_path"
    assert all(s.kind in ("conv", "pool", "transposed", "network") for s in STAGE_LIST), "a stage of an unknown kind"
    from .codegen import SCRIPTS

    for s in STAGE_LIST:
        assert s.page in PAGE, f"stage {s.name!r}: no page {s.page!r} in PAGES"
        assert s.script in SCRIPTS, f"stage {s.name!r}: no script {s.script!r} in convviz.codegen.SCRIPTS"


_check_catalog()
