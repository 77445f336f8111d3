"""Your own arrays in a notebook: `convviz.show(stage, x=..., w=...)` draws any stage of the app for them.

Jupyter, JupyterLab and VS Code render the returned Plotly figure inline (it is a `go.Figure`; make it the cell's
last expression, or call `.show()` yourself). Needs NumPy and Plotly, never Streamlit: the geometry is built from the
arrays' shapes and the keyword arguments here, not from the app's settings (convviz.ui is not imported).
`import convviz` stays NumPy-only: `convviz.show` loads this module on first use (convviz/__init__.py).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .geometry import ConvSpec, spec_for
from .network import NetSpec
from .pool import pool_spec
from .stages import PAGES, STAGES, Arrays, stages_of
from .traces.base import Trace
from .transposed import TransposedSpec

# The exported files' figure size (convviz/ui/trace_view.py's export box): 980 px wide, 34 px cells, 12 px font.
EXPORT_WIDTH = 980
EXPORT_CELL_PX = 34.0
EXPORT_FONT_SIZE = 12

# A page's url path -> the first stage it draws, for the pages whose name is not itself a stage's (from the catalog).
ALIASES: dict[str, str] = {
    p.url_path: stages_of(p.url_path)[0].name for p in PAGES if stages_of(p.url_path) and p.url_path not in STAGES
}

def _stages(test) -> tuple[str, ...]:
    return tuple(name for name, record in STAGES.items() if test(record))


# Options: figure size for every stage; the rest only for the stages whose records take them.
FIGURE_OPTIONS = ("width", "height", "cell_px", "font_size")
STAGE_OPTIONS = {
    "kernel_size": _stages(lambda r: r.kind == "pool"),
    "output_padding": _stages(lambda r: r.kind == "transposed"),
    "count_include_pad": _stages(lambda r: "cip" in r.options),
    "max_entries": _stages(lambda r: "max_entries" in r.options),
    "net": _stages(lambda r: r.kind == "network"),
    "cell": _stages(lambda r: r.kind == "network"),
    "seed": _stages(lambda r: r.kind == "network"),
}


def stage_names() -> tuple[str, ...]:
    """The stages `show` draws (every stage of the catalog), in the app's order."""
    return tuple(STAGES)


def resolve_stage(stage: str) -> str:
    """A stage name of the catalog, or a page's url path (its first stage); ValueError listing both otherwise."""
    if isinstance(stage, str) and stage in STAGES:
        return stage
    if isinstance(stage, str) and stage in ALIASES:
        return ALIASES[stage]
    aliases = ", ".join(f"{k!r} -> {v!r}" for k, v in ALIASES.items())
    raise ValueError(f"stage: unknown stage {stage!r}. Valid stages: {', '.join(map(repr, STAGES))}; "
                     f"page names work too: {aliases}.")


def _as_array(value: object, name: str) -> np.ndarray:
    """A float64 copy of a NumPy array, nested list or (CPU) tensor; ValueError naming the argument otherwise."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, possibly requiring grad
        value = value.detach().cpu().numpy()
    try:
        a = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name}: expected an array of numbers, got {type(value).__name__} ({e}).") from None
    if not np.isfinite(a).all():
        raise ValueError(f"{name}: contains NaN or infinity; the figures need finite numbers.")
    return a


def _promote(a: np.ndarray, name: str, layouts: dict[int, tuple[str, Callable[[np.ndarray], np.ndarray]]],
             full: str) -> np.ndarray:
    """a as 4-D: `layouts` maps a rank to (its layout's name, how to add the missing axes)."""
    if a.ndim == 4:
        return a
    if a.ndim in layouts:
        return layouts[a.ndim][1](a)
    accepted = ", ".join([layouts[k][0] for k in sorted(layouts)] + [full])
    raise ValueError(f"{name}: expected a {' or '.join(f'{k}-D' for k in sorted(layouts) + [4])} array "
                     f"({accepted}), got shape {a.shape}.")


_X_LAYOUTS = {2: ("(H, W)", lambda a: a[None, None]), 3: ("(C, H, W)", lambda a: a[None])}
_W_LAYOUTS = {2: ("(KH, KW)", lambda a: a[None, None]), 3: ("(C, KH, KW): one filter", lambda a: a[None])}
_WT_LAYOUTS = {2: ("(KH, KW)", lambda a: a[None, None]), 3: ("(CIN, KH, KW): one output channel", lambda a: a[:, None])}


def _given(value: object, name: str, stage: str, what: str) -> object:
    if value is None:
        raise ValueError(f"{name}: stage {stage!r} needs {what}.")
    return value


def _bias(b: object, f: int) -> np.ndarray:
    if b is None:
        return np.zeros(f)
    a = _as_array(b, "b")
    if a.ndim == 0:
        return np.full(f, float(a))
    if a.shape != (f,):
        raise ValueError(f"b: expected shape (F,) = ({f},), one bias per output channel, got shape {a.shape}.")
    return a


def _upstream(dout: object, shape: tuple[int, ...], what: str) -> np.ndarray:
    """dout of the output's shape (ones when not given); a 2-D or 3-D dout is fine when only size-1 axes are missing."""
    if dout is None:
        return np.ones(shape)
    a = _as_array(dout, "dout")
    lead = 4 - a.ndim
    if 2 <= a.ndim < 4 and a.shape == tuple(shape[lead:]) and all(s == 1 for s in shape[:lead]):
        a = a.reshape(shape)
    if a.shape != tuple(shape):
        raise ValueError(f"dout: expected the output's shape {what} = {tuple(shape)}, got shape {a.shape}.")
    return a


def _pick(value: object, name: str, count: int, what: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name}: expected a whole number (the {what} shown), got {value!r}.")
    if not 0 <= int(value) < count:
        raise ValueError(f"{name}: the {what} shown must be in 0..{count - 1} (there are {count}), got {value}.")
    return int(value)


def _check_options(name: str, options: dict) -> None:
    known = FIGURE_OPTIONS + tuple(STAGE_OPTIONS)
    for key in options:
        if key not in known:
            raise TypeError(f"show() got an unexpected option {key!r}; options: {', '.join(known)}.")
        if key in STAGE_OPTIONS and name not in STAGE_OPTIONS[key]:
            raise ValueError(f"{key}: only the stages {', '.join(map(repr, STAGE_OPTIONS[key]))} take it, not {name!r}.")


def _layer_and_arrays(name: str, x, w, b, dout, stride, padding, dilation, groups, options) -> tuple[object, Arrays]:
    """The stage's layer (its record's kind: ConvSpec, pooling ConvSpec or TransposedSpec) and the user's arrays,
    promoted and checked against it, in the layouts the record's builder takes."""
    record = STAGES[name]
    none = np.zeros((0, 0, 0, 0))  # an array the stage does not read
    x4 = _promote(_as_array(_given(x, "x", name, "an input x"), "x"), "x", _X_LAYOUTS, "(N, C, H, W)")
    if record.kind == "network":
        if "net" not in options:
            raise ValueError(f"net: stage {name!r} needs the layers, e.g. net=\"c3,relu,c3\" (convviz/network.py's "
                             "grammar); it makes its own small weights (seed=...).")
        return NetSpec.create(options["net"], x4.shape), Arrays(x4, none, none, none)
    if record.kind == "pool":
        if groups != 1:
            raise ValueError(f"groups: pooling has none (each channel is pooled alone), got {groups}. Leave groups=1.")
        if "kernel_size" not in options:
            raise ValueError(f"kernel_size: stage {name!r} needs the pooling window, e.g. kernel_size=2 or (2, 3) "
                             "(pooling takes no w).")
        if name == "avgpool" and dilation not in (1, (1, 1), [1, 1]):
            raise ValueError(f"dilation: average pooling has none (PyTorch's avg_pool2d takes no dilation), got "
                             f"{dilation!r}. Leave dilation=1, or draw 'maxpool'.")
        spec = pool_spec(x4.shape, options["kernel_size"], stride, padding, dilation)
        return spec, Arrays(x4, none, none, _upstream(dout, spec.output_shape, "(N, C, OH, OW)"))
    transposed = record.kind == "transposed"
    wa = _promote(_as_array(_given(w, "w", name, "kernels w"), "w"), "w", _WT_LAYOUTS if transposed else _W_LAYOUTS,
                  "(CIN, COUT, KH, KW)" if transposed else "(F, C/groups, KH, KW)")
    if transposed:
        if groups != 1:
            raise ValueError(f"groups: the transposed-convolution stages draw groups = 1, got {groups}.")
        n, cin, h, wd = x4.shape
        if wa.shape[0] != cin:
            raise ValueError(f"w: a transposed convolution takes w in PyTorch's layout (CIN, COUT, KH, KW) with "
                             f"CIN = x.shape[1] = {cin}, got shape {wa.shape}.")
        tspec = TransposedSpec.create(h, wd, wa.shape[2:], stride, padding, options.get("output_padding", 0), dilation,
                                      n=n, cin=cin, cout=wa.shape[1])
        # the records hold kernels in the app's (F, C) layout and turn them for a transposed layer (transposed_weights)
        return tspec, Arrays(x4, wa.transpose(1, 0, 2, 3), none, none)
    spec: ConvSpec = spec_for(x4.shape, wa.shape, stride, padding, dilation, groups=groups)
    bias = _bias(b, spec.f) if "b" in record.reads else np.zeros(spec.f)
    grad = _upstream(dout, spec.output_shape, "(N, F, OH, OW)") if "dout" in record.reads else none
    return spec, Arrays(x4, wa, bias, grad)


def _counts(name: str, layer, arrays: Arrays) -> dict[str, tuple[int, str]]:
    """How many samples / output / input channels the picks n, f, c choose among, and what they are."""
    kind = STAGES[name].kind
    if kind == "network":
        return {"n": (layer.input_shape[0], "sample"), "f": (layer.output_shape[1], "output channel of the last layer")}
    if kind == "transposed":
        return {"n": (layer.n, "sample"), "f": (layer.cout, "output channel"), "c": (layer.cin, "input channel")}
    n, c = arrays.x.shape[:2]
    f = c if kind == "pool" else arrays.w.shape[0]
    return {"n": (n, "sample"), "f": (f, "output channel"), "c": (c, "channel" if kind == "pool" else "input channel")}


def build_trace(stage: str, x=None, w=None, b=None, dout=None, stride=1, padding=0, dilation=1, groups=1, n=0, f=0, c=0,
                **options) -> Trace:
    """The step trace `show` draws (same arguments; figure options are accepted and ignored): the stage's own builder
    (convviz.stages.STAGES[stage].build) with the user's layer and arrays."""
    name = resolve_stage(stage)
    _check_options(name, options)
    record = STAGES[name]
    layer, arrays = _layer_and_arrays(name, x, w, b, dout, stride, padding, dilation, groups, options)
    counts = _counts(name, layer, arrays)
    given = {"n": n, "f": f, "c": c}
    picks = {k: _pick(given[k], k, *counts[k]) for k in ("n", "f", "c") if k in record.options}
    if "count_include_pad" in options:
        picks["cip"] = "true" if options["count_include_pad"] else "false"
    if "max_entries" in options:
        picks["max_entries"] = options["max_entries"]
    if record.kind == "network":
        oh, ow = layer.output_shape[2:]
        i, j = options.get("cell", (0, 0))
        picks.update(i=_pick(i, "cell row", oh, "output row"), j=_pick(j, "cell column", ow, "output column"),
                     seed=int(options.get("seed", 0)))
    return record.build(layer, arrays, **picks)


def show(stage: str, x=None, w=None, b=None, dout=None, stride=1, padding=0, dilation=1, groups=1, n=0, f=0, c=0,
         **options):
    """The app's animated figure of `stage` for your own arrays, with Plotly's Play button, step slider and each
    step's title and caption (as the app's exported HTML has them).

    Returns a plotly `go.Figure`: a notebook cell ending with it renders it inline (Jupyter, JupyterLab, VS Code);
    `fig.write_html("conv.html")` saves it.

    Example::

        import numpy as np, convviz
        x = np.random.default_rng(0).integers(-3, 4, (2, 2, 6, 6))   # (N, C, H, W)
        w = np.random.default_rng(1).integers(-2, 3, (3, 2, 3, 3))   # (F, C, KH, KW)
        convviz.show("input_gradient", x=x, w=w, stride=2, padding="same")   # page name -> stage "transposed"
        convviz.show("forward", x=x, w=w, padding=1, n=1, f=2)               # sample 1, output channel 2
        convviz.show("maxpool", x=x, kernel_size=2, stride=2)
        convviz.show("tconv_scatter", x=x, w=np.ones((2, 3, 3, 3)), stride=2, output_padding=1)

    Args:
        stage: a stage of the catalog (convviz.stages.STAGES: "shapes", "forward", "im2col_indices", "im2col_gather",
            "im2col_product", "strided", "transposed", "col2im", "weight_grad", "tconv_scatter", "tconv_direct",
            "tconv_gradient", "groups", "maxpool", "avgpool", "network", "gradcheck") or an app page's url path, which means the
            first stage that page draws (`ALIASES`: "input_gradient" -> "transposed", "im2col" -> "im2col_indices",
            "weight_gradient" -> "weight_grad", "conv_transpose" -> "tconv_scatter", "grouped" -> "groups").
        x: the input, (N, C, H, W); (C, H, W) is one sample and (H, W) one sample of one channel.
        w: the kernels, PyTorch's layouts. Convolution stages: (F, C/groups, KH, KW); (C, KH, KW) is one filter and
            (KH, KW) one filter of one channel. Transposed-convolution stages ("tconv_*"): (CIN, COUT, KH, KW), CIN =
            x's channels; (CIN, KH, KW) has one output channel and (KH, KW) is (1, 1, KH, KW). Pooling takes no w.
        b: the bias, (F,) or a number for every channel; default zeros. Read by "forward", "im2col_product",
            "groups", "gradcheck".
        dout: the upstream gradient, the output's shape (N, F, OH, OW) ((N, C, OH, OW) for pooling; missing leading
            axes of size 1 may be left out); default ones. Read by "transposed", "col2im", "weight_grad", "maxpool",
            "avgpool", "gradcheck".
        stride, padding, dilation, groups: the layer, as convviz.conv2d takes them (padding: an int, (ph, pw),
            (top, bottom, left, right) or "valid" / "same" / "full"). Pooling takes an int or (ph, pw) padding of at
            most half the window, and its stride is this `stride` (default 1, as in the app; PyTorch's default is the
            window: pass stride=kernel_size). Transposed convolution: padding is cropped from each side (int or
            (ph, pw)). Pooling and transposed convolution draw groups = 1 only.
        n, f, c: the sample, output channel and input channel the figure shows, for the stages that pick them
            (STAGES[stage].options): n everywhere a batch is drawn; f for "forward", "weight_grad", "gradcheck" and
            the transposed stages (their COUT); c for "transposed" (the input channel whose gradient is drawn), the
            pooling stages (the channel pooled) and the transposed stages (their CIN). Other stages ignore them.
        options:
            width: the figure's largest width in px (default 980, the exported files'); height: its largest height
                (default: as tall as it needs); cell_px (34), font_size (12): the largest cell and the font.
            Steps: at most 400 a figure, evenly spaced, as in the app.
            kernel_size: the pooling window (int or (kh, kw)); required by "maxpool" and "avgpool".
            output_padding: the transposed stages' output padding (int or (oph, opw)); default 0.
            count_include_pad: "avgpool" divides by the whole window, padding included (True, PyTorch's default) or
                by its real cells (False).
            net: "network"'s layers, e.g. "c3p1,relu,max2,c3" (convviz/network.py's grammar; x alone is the input,
                the weights are its own: small integers from `seed`, biases centring each convolution's output);
                cell: the output cell (i, j) whose receptive field and one-hot gradient it draws (default (0, 0)),
                of sample n and output channel f.
            max_entries: "gradcheck"'s central-difference estimates per array (default 200; None: every entry).
                "gradcheck" also runs every backward method, the pure-Python loops included: keep its layer small
                (e.g. 2 x 8 x 16 x 16 input and 16 3 x 3 kernels take ~25 s; the other stages take ~1-4 s even at
                4 x 32 x 28 x 28 and 64 kernels, drawing a window of each large panel).

    Raises:
        ValueError: an unknown stage (the message lists the valid names), an array of the wrong rank or shape (the
            message names the argument and the expected shape), an impossible layer (the engine's own message), or a
            pick out of range.
    """
    name = resolve_stage(stage)
    trace = build_trace(name, x, w, b, dout, stride, padding, dilation, groups, n, f, c, **options)
    from .figures import trace_figure  # plotly is needed from here on only

    record = STAGES[name]
    return trace_figure(trace, rows=[list(r) for r in record.rows_of(trace)], clickable=record.clickable,
                        max_width=options.get("width", EXPORT_WIDTH), max_height=options.get("height"),
                        cell_px=options.get("cell_px", EXPORT_CELL_PX),
                        font_size=options.get("font_size", EXPORT_FONT_SIZE), controls=True)
