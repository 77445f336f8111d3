"""The bug lab: eleven classic mistakes, each switched on inside the engine's real code path.

Each bug is a private `_bug` switch in the engine function that computes the result (the function's own code runs,
with one line changed), so what the lab shows is exactly what that wrong line does. A buggy run that raises (a shape
mismatch, an index out of range) is caught and reported as the outcome of that code, never re-raised.

The bugs are of five kinds (`KINDS`), each with its own code path, result, independent check and reference:

* conv_backward: conv2d's backward (`conv2d_backward_spec`), its dx checked by central differences of
  L = sum(conv2d(x, w) * dout) with respect to x;
* transposed: the transposed convolution's direct view (`convviz.transposed.direct_transposed`), its y' checked as
  what it is, the input gradient of the forward convolution it inverts: central differences of
  L = sum(conv2d(z, w) * x') with respect to z;
* grouped: grouped conv2d's forward (`conv2d_spec`), its y checked against the same layer as an ordinary convolution
  whose kernels are zero outside their group (block-diagonal);
* avgpool: average pooling's backward (`convviz.pool.avg_pool2d_backward_spec`), its dx checked by central differences
  of L = sum(avg_pool2d(x) * dout) with respect to x;
* network: a small network's backward (`convviz.network.backward`, its `skip_relu_mask` switch), its input gradient dx
  checked by central differences of L = sum(forward(x) * dout) with respect to x, each ReLU's on/off and each max
  window's pick held as they are at x (so the estimate is the slope wherever the network is smooth, and PyTorch's rule
  at a kink: an integer input often puts a ReLU input at exactly 0, where a plain central difference gives half).

A `BugCase` holds one kind's layer and arrays; `run_bug` runs a bug's code with the switch on and off, `check_bug` the
independent check, `live_check` the bug-off code against the kind's reference.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from .conv import conv2d_backward_spec, conv2d_spec
from .geometry import ConvSpec, crop_padding, pad_input
from .gradcheck import EPS, ROUNDING_FACTOR, GradCheck, numerical_gradient, sample_entries
from .network import NetSpec, backward, forward, init_params, layer_forward
from .pool import _windows, avg_pool2d_backward_spec, avg_pool2d_spec, avg_pool_divisors, max_pool2d_argmax, pool_spec
from .transposed import direct_transposed, forward_dout, scatter_transposed


@dataclass(frozen=True)
class BugCase:
    """What one bug's code runs on: its kind's layer and arrays.

    spec: conv_backward, grouped: the convolution's ConvSpec; transposed: the layer's TransposedSpec; avgpool: the
        pooling layer's ConvSpec (convviz.pool.pool_spec); network: the stack's NetSpec.
    x: the layer's input, (N, C, H, W) (transposed: x' (N, CIN, H, W)).
    w: conv_backward, grouped: (F, C/groups, KH, KW); transposed: (CIN, COUT, KH, KW); avgpool, network: None.
    dout: the upstream gradient, conv_backward: (N, F, OH, OW); avgpool: (N, C, OH, OW); network: the last layer's
        output shape; otherwise None.
    count_include_pad: avgpool only: the divisor at the padded borders.
    params: network only: every layer's parameters, convviz.network.init_params(spec.planned, seed) (None: seed 0).
    """

    spec: Any
    x: np.ndarray
    w: np.ndarray | None = None
    dout: np.ndarray | None = None
    count_include_pad: bool = True
    params: tuple | None = None


@dataclass(frozen=True)
class Bug:
    """One classic bug: where it lives, the wrong and right line, and settings (URL query) that expose it."""

    id: str
    title: str
    method: str  # the method (or function) whose code carries the bug, within its kind's code path
    wrong: str
    right: str
    why: str
    expose: Mapping[str, str]  # URL query parameters (see convviz.ui.settings) that make the bug visible
    kind: str = "conv_backward"  # a key of KINDS

    @property
    def where(self) -> str:
        """The code that carries the bug, e.g. "`col2im` backward of conv2d" (Markdown)."""
        return KINDS[self.kind].where.format(method=self.method)

    def exposed(self, spec, w: np.ndarray | None = None, *, x: np.ndarray | None = None,
                count_include_pad: bool = True, params: tuple | None = None, dout: np.ndarray | None = None) -> bool:
        """Whether these settings make the buggy result differ (False means the bug hides here).

        spec, w, x, count_include_pad, params, dout: as in BugCase (x: the grouped and network bugs' input, None
        counts as exposing data; dout: the network's upstream gradient, None: all ones)."""
        return self.exposed_in(BugCase(spec, x, w, dout, count_include_pad, params))

    def exposed_in(self, case: BugCase) -> bool:
        return bool(_EXPOSED[self.id](case))


def _overlap(spec: ConvSpec) -> bool:
    return (spec.sh < spec.ekh and spec.oh > 1) or (spec.sw < spec.ekw and spec.ow > 1)


def _groups_read_differently(case: BugCase) -> bool:
    """groups > 1, and some group's input channels differ from the first group's (equal ones hide the offset)."""
    spec, x = case.spec, case.x
    if spec.groups == 1:
        return False
    if x is None:
        return True
    cg = spec.cg
    return any(not np.array_equal(x[:, :cg], x[:, g * cg:(g + 1) * cg]) for g in range(1, spec.groups))


def _border_divisor_differs(case: BugCase) -> bool:
    """count_include_pad=False and some window overlaps the padding (its real cells are fewer than KH*KW)."""
    ps = case.spec
    return not case.count_include_pad and bool(np.any(avg_pool_divisors(ps, False) != ps.kh * ps.kw))


def _relu_mask_matters(case: BugCase) -> bool:
    """The stack has a ReLU, and (with data) some ReLU input <= 0 gets a nonzero gradient that changes dx."""
    if not any(L.kind == "relu" for L in case.spec.layers):
        return False
    if case.x is None:
        return True
    ok, bad = (_network_run(case, "backward", bug)[0] for bug in (None, "relu_no_mask"))
    return bool(np.any(np.abs(bad - ok) > 1e-9 * max(float(np.abs(ok).max(initial=0.0)), 1.0)))


_EXPOSED: dict[str, Callable[[BugCase], bool]] = {
    "no_dilate": lambda c: (c.spec.sh > 1 and c.spec.oh > 1) or (c.spec.sw > 1 and c.spec.ow > 1),
    "no_remainder": lambda c: c.spec.rem_h > 0 or c.spec.rem_w > 0,
    "col2im_assign": lambda c: _overlap(c.spec),
    "crop_negative": lambda c: c.spec.bottom == 0 or c.spec.right == 0,
    "height_for_width": lambda c: (c.spec.hp - c.spec.ekw) // c.spec.sw + 1 != c.spec.ow,
    "no_flip": lambda c: not np.array_equal(c.w, c.w[:, :, ::-1, ::-1]),
    "tconv_no_flip": lambda c: not np.array_equal(c.w, c.w[:, :, ::-1, ::-1]),
    "tconv_output_padding": lambda c: c.spec.oph > 0 or c.spec.opw > 0,
    "group_offset": _groups_read_differently,
    "avgpool_divisor": _border_divisor_differs,
    "relu_no_mask": _relu_mask_matters,
}

BUGS: dict[str, Bug] = {b.id: b for b in (
    Bug("no_dilate", "No dilation of dout for stride > 1", "transposed",
        "dd = dout", "dd = dilate(dout, SH, SW)  # SH-1 zero rows between rows",
        "Each dout value belongs to a window SH rows below the previous one. Without the zero rows the values slide "
        "over neighbouring positions: dx is too small and misplaced. Correct only for stride 1.",
        {"h": "7", "w": "7", "sh": "2", "sw": "2"}),
    Bug("no_remainder", "Missing remainder padding when the stride does not divide", "transposed",
        "pads = (EKH-1, EKH-1, EKW-1, EKW-1)", "pads = (EKH-1, EKH-1 + r_h, EKW-1, EKW-1 + r_w)",
        "The last r = (H + top + bottom - EKH) mod SH rows were never covered by a window. They get zero gradient, but "
        "they still need padding, or the transposed convolution's output is r rows short of the input.",
        {"sh": "2", "sw": "2"}),
    Bug("col2im_assign", "Assignment instead of add in col2im", "col2im",
        "xpad[:, k, i, j] += cols  # buffered: one write per cell", "np.add.at(xpad, (slice(None), k, i, j), cols)",
        "Where windows overlap (stride < kernel) one input cell receives several gradient contributions. Fancy-index "
        "assignment (and buffered +=) keeps only one of them, silently losing gradient.",
        {"sh": "1", "sw": "1"}),
    Bug("crop_negative", "Cropping with a[p:-p] when p = 0", "transposed",
        "dx = dxpad[..., top:-bottom, left:-right]", "dx = dxpad[..., top:top + H, left:left + W]",
        "-0 is 0, so a[0:-0] is a[0:0]: empty. With zero padding (valid, the default) dx comes out with no rows.",
        {"pad": "valid"}),
    Bug("height_for_width", "Height used for the width check", "loops",
        "OW = (HP - EKW) // SW + 1", "OW = (WP - EKW) // SW + 1",
        "The column count of the windows is computed from the padded height. Square inputs hide it; a wide input "
        "loses its right-most windows' gradient, a tall one indexes past dout's last column.",
        {"w": "8"}),
    Bug("no_flip", "Kernel not flipped in the transposed path", "transposed",
        "wk = w.transpose(1, 0, 2, 3)", "wk = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)  # rotate 180 degrees",
        "Sliding the kernel over the padded dout is a correlation; undoing the forward correlation needs the kernel "
        "rotated 180 degrees. A symmetric kernel (box, Gaussian) hides the bug.",
        {"kernel": "random"}),
    Bug("tconv_no_flip", "Transposed convolution: kernel not rotated in the direct view", "direct",
        "wrot = w.transpose(1, 0, 2, 3)", "wrot = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)  # rotate 180 degrees",
        "The scatter writes tap u of the kernel to output row i*S + u*D - p, so read from the output side a window "
        "moving down meets the taps bottom-up: sliding over the zero-inserted input needs the kernel rotated 180 "
        "degrees. A symmetric kernel (box, Gaussian) hides the bug.",
        {"kernel": "random"}, "transposed"),
    Bug("tconv_output_padding", "Transposed convolution: output padding on the top/left", "direct",
        "pads = (EKH-1-PH + OPH, EKH-1-PH, EKW-1-PW + OPW, EKW-1-PW)  # a before",
        "pads = (EKH-1-PH, EKH-1-PH + OPH, EKW-1-PW, EKW-1-PW + OPW)  # a after: bottom/right",
        "Output padding appends a rows and columns at the bottom/right of the output (the forward convolution's "
        "uncovered remainder, which no window read). Padded before instead, the whole output slides a rows down and a "
        "columns right. Hidden with a = 0, which is all stride 1 allows.",
        {"sh": "2", "sw": "2", "oph": "1", "opw": "1"}, "transposed"),
    Bug("group_offset", "Grouped convolution: every group reads the first group's channels", "loops",
        "chans = slice(0, CG)  # the same CG channels for every group",
        "chans = slice(g * CG, (g + 1) * CG)  # group g's own channels",
        "Output channel f belongs to group g = f // FG and must read only input channels g*CG .. (g+1)*CG - 1. "
        "Forgetting the group's offset makes every group read channels 0 .. CG-1: the shapes still fit, so nothing "
        "raises, but groups after the first compute from the wrong channels. One group (groups = 1) hides it.",
        {"cin": "2", "cout": "2", "groups": "2"}, "grouped"),
    Bug("avgpool_divisor", "Average pooling: the full window's count at a padded border", "col2im",
        "divisor = KH * KW  # every window, however much of it is padding",
        "divisor = avg_pool_divisors(spec, count_include_pad)  # real cells only when False",
        "With count_include_pad=False the forward divides a border window's sum by its real (non-padding) cells, so "
        "each of them must get dout / (real cells) back. Dividing by KH*KW gives the border cells too little gradient. "
        "Hidden without padding, or with count_include_pad=True, where KH*KW is right.",
        {"pool": "avg", "cip": "false", "pad": "same"}, "avgpool"),
    Bug("relu_no_mask", "Network: the ReLU mask forgotten in the backward", "backward",
        "dx = dout  # ReLU's backward", "dx = dout * (x > 0)  # no gradient where the forward gave 0",
        "ReLU passes a cell on only where its input is positive, so its backward must multiply the upstream gradient "
        "by the same mask [x > 0]. Without it the gradient flows back through cells the forward pass zeroed, as if the "
        "ReLU were not there: dx is the gradient of the stack without its ReLUs. Hidden when the stack has no ReLU or "
        "every ReLU input is positive (an input of ones straight into a ReLU); random data exposes it.",
        {"net": "c3,relu,c3", "data": "random"}, "network"),
)}


@dataclass(frozen=True)
class BugRun:
    """What the buggy code returns (or the error it raises) beside the correct result (the same code, bug off).

    The result is what the bug's kind computes (KINDS[bug.kind].result): dx (conv_backward, avgpool, network: the
    network's input gradient), y' (transposed) or y (grouped), all (N, channels, rows, columns).
    """

    bug: Bug
    result: np.ndarray | None  # None when the buggy code raised
    dw: np.ndarray | None  # conv_backward only
    db: np.ndarray | None
    error: str | None  # "ExceptionType: message" when the buggy code raised
    result_ok: np.ndarray  # the correct result, same code without the bug

    @property
    def dx(self) -> np.ndarray | None:
        """The buggy result (named as the conv_backward bugs call it)."""
        return self.result

    @property
    def dx_ok(self) -> np.ndarray:
        return self.result_ok

    @property
    def name(self) -> str:
        """What the result is: "dx", "y'" or "y"."""
        return KINDS[self.bug.kind].result

    @property
    def same_shape(self) -> bool:
        return self.result is not None and self.result.shape == self.result_ok.shape

    @property
    def aligned(self) -> np.ndarray:
        """The buggy result in the correct shape: its top-left part, NaN where it has no value."""
        out = np.full(self.result_ok.shape, np.nan)
        got = self.result
        if got is not None and got.ndim == 4:
            n, c = min(got.shape[0], out.shape[0]), min(got.shape[1], out.shape[1])
            hh, ww = min(got.shape[2], out.shape[2]), min(got.shape[3], out.shape[3])
            out[:n, :c, :hh, :ww] = got[:n, :c, :hh, :ww]
        return out

    @property
    def wrong_mask(self) -> np.ndarray:
        """True where the buggy result differs beyond rounding or has no value at all (the correct shape)."""
        scale = max(float(np.abs(self.result_ok).max(initial=0.0)), 1.0)
        diff = np.abs(self.aligned - self.result_ok)
        return np.isnan(diff) | (np.nan_to_num(diff) > 1e-9 * scale)

    @property
    def max_abs_diff(self) -> float | None:
        return float(np.abs(self.result - self.result_ok).max(initial=0.0)) if self.same_shape else None

    @property
    def outcome(self) -> str:
        """One sentence: what the buggy code did."""
        name = self.name
        if self.error is not None:
            return f"The buggy code raises {self.error}"
        if not self.same_shape:
            return f"The buggy code returns {name} of shape {self.result.shape} instead of {self.result_ok.shape}."
        wrong = int(self.wrong_mask.sum())
        if wrong == 0:
            return f"These settings hide the bug: the buggy {name} equals the correct one."
        return f"{wrong} of {self.result_ok.size} {name} entries are wrong; max |diff| = {self.max_abs_diff:.4g}."


@dataclass(frozen=True)
class BugCheck:
    """The kind's independent check of the buggy and the correct result against the same estimate."""

    buggy: GradCheck | None  # None when the buggy result cannot be compared (it raised or has the wrong shape)
    correct: GradCheck
    note: str  # why buggy is None, else ""

    @property
    def buggy_passed(self) -> bool:
        return self.buggy is not None and self.buggy.passed


# ---------------------------------------------------------------------------------------------------
# the kinds: each one's code path, check and reference
# ---------------------------------------------------------------------------------------------------
def _f64(*arrays):
    return tuple(None if a is None else np.asarray(a, dtype=np.float64) for a in arrays)


def _conv_backward_run(case: BugCase, method: str, bug: str | None):
    dout, x, w = _f64(case.dout, case.x, case.w)
    return conv2d_backward_spec(dout, x, w, case.spec, method, _bug=bug)  # dx, dw, db


def _transposed_run(case: BugCase, method: str, bug: str | None):
    x, w = _f64(case.x, case.w)
    return direct_transposed(x, w, case.spec, _bug=bug), None, None  # y'


def _grouped_run(case: BugCase, method: str, bug: str | None):
    x, w = _f64(case.x, case.w)
    return conv2d_spec(x, w, None, case.spec, method, _bug=bug), None, None  # y


def _avgpool_run(case: BugCase, method: str, bug: str | None):
    dout, x = _f64(case.dout, case.x)
    return avg_pool2d_backward_spec(dout, x, case.spec, case.count_include_pad, _bug=bug), None, None  # dx


def _network_inputs(case: BugCase) -> tuple:
    """(planned, params, x, dout) of a network case, params and dout defaulted (init_params seed 0, all ones)."""
    ns: NetSpec = case.spec
    params = case.params if case.params is not None else init_params(ns.planned, 0)
    (x,) = _f64(case.x)
    dout = np.ones(ns.output_shape) if case.dout is None else np.asarray(case.dout, dtype=np.float64)
    return ns.planned, params, x, dout


def _network_run(case: BugCase, method: str, bug: str | None):
    if bug is not None and bug != "relu_no_mask":
        raise ValueError(f"_bug: {bug!r} is not a bug of the network's backward (its bug: 'relu_no_mask').")
    planned, params, x, dout = _network_inputs(case)
    acts = forward(planned, x, params)
    return backward(planned, acts, params, dout, skip_relu_mask=bug is not None).grads[0], None, None  # dx


def _entries(run: BugRun, size: int, max_entries: int | None) -> np.ndarray | None:
    """The flat entries to estimate (None: all): a seeded sample that always includes some the bug got wrong."""
    entries = sample_entries(size, max_entries, np.random.default_rng(0))
    if entries is not None:  # a sample must not miss the bug: always estimate some of the entries it got wrong
        entries = np.union1d(entries, np.flatnonzero(run.wrong_mask)[: max_entries // 4])
    return entries


def _central(run: BugRun, var: np.ndarray, loss: Callable[[], float], magnitude: float, h: float,
             max_entries: int | None) -> tuple[np.ndarray, float]:
    """Central differences of loss() with respect to var (perturbed in place), on a sample of entries that always
    includes some the bug got wrong; and the estimate's rounding noise."""
    noise = ROUNDING_FACTOR * EPS * magnitude / h
    return numerical_gradient(loss, var, h, entries=_entries(run, var.size, max_entries)), noise


def _conv_backward_estimate(run, case, h, max_entries):
    """dL/dx by central differences, L = sum(conv2d(x, w) * dout). The bias does not change dL/dx: left out."""
    spec = case.spec
    x = np.array(case.x, dtype=np.float64)  # a private copy: numerical_gradient perturbs it in place
    w, dout = _f64(case.w, case.dout)

    def loss() -> float:
        return float(np.sum(conv2d_spec(x, w, None, spec, "im2col") * dout))

    magnitude = float(np.sum(conv2d_spec(np.abs(x), np.abs(w), None, spec, "im2col") * np.abs(dout)))
    return _central(run, x, loss, magnitude, h, max_entries)


def _transposed_estimate(run, case, h, max_entries):
    """y' as the input gradient of the forward convolution it inverts: dL/dz by central differences,
    L = sum(conv2d(z, w) * x'), z (N, COUT, OH, OW) any point (L is linear in z), w as stored (F = CIN, C = COUT)."""
    fs = case.spec.forward_spec()
    x, w = _f64(case.x, case.w)
    dout = forward_dout(x, case.spec)  # x' as the forward convolution's upstream gradient
    z = np.random.default_rng(0).standard_normal(fs.input_shape)

    def loss() -> float:
        return float(np.sum(conv2d_spec(z, w, None, fs, "im2col") * dout))

    magnitude = float(np.sum(conv2d_spec(np.abs(z), np.abs(w), None, fs, "im2col") * np.abs(dout)))
    return _central(run, z, loss, magnitude, h, max_entries)


def dense_kernels(w: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """A grouped layer's kernels (F, C/groups, KH, KW) as an ordinary layer's (F, C, KH, KW): zero outside f's group."""
    dense = np.zeros((spec.f, spec.c, spec.kh, spec.kw), dtype=np.result_type(w, np.float64))
    for f in range(spec.f):
        g = f // spec.fg
        dense[f, g * spec.cg:(g + 1) * spec.cg] = w[f]
    return dense


def _grouped_estimate(run, case, h, max_entries):
    """y of the same layer as an ordinary convolution with block-diagonal kernels (every value, no differences)."""
    spec = case.spec
    x, w = _f64(case.x, case.w)
    plain = ConvSpec.create(spec.h, spec.w, spec.kernel_size, spec.stride, spec.padding, spec.dilation, n=spec.n,
                            c=spec.c, f=spec.f)
    dense = dense_kernels(w, spec)
    magnitude = float(np.max(conv2d_spec(np.abs(x), np.abs(dense), None, plain, "im2col"), initial=0.0))
    return conv2d_spec(x, dense, None, plain, "im2col"), ROUNDING_FACTOR * EPS * magnitude


def _avgpool_estimate(run, case, h, max_entries):
    """dL/dx by central differences, L = sum(avg_pool2d(x) * dout)."""
    ps, cip = case.spec, case.count_include_pad
    x = np.array(case.x, dtype=np.float64)
    (dout,) = _f64(case.dout)

    def loss() -> float:
        return float(np.sum(avg_pool2d_spec(x, ps, cip) * dout))

    magnitude = float(np.sum(avg_pool2d_spec(np.abs(x), ps, cip) * np.abs(dout)))
    return _central(run, x, loss, magnitude, h, max_entries)


def _held_forward(planned, params, acts, x: np.ndarray, absolute: bool = False) -> np.ndarray:
    """The network's output for input x with every ReLU's on/off and every max window's pick held as they are for the
    activations `acts` (the network is linear in x then). absolute: |x| through the layers with |w| and |b| (the
    magnitude of every product the output adds up, for the rounding noise)."""
    a = np.abs(x) if absolute else x
    for p, prm, held in zip(planned, params, acts):  # held: the layer's input at the point of the check
        kind = p.layer.kind
        if kind == "relu":
            a = a * (held > 0)
        elif kind == "max":
            ps = pool_spec(held.shape, p.layer.k, p.layer.s, p.layer.p)  # held may be one sample of the batch
            k, _ = max_pool2d_argmax(held, ps)  # the first maximum of each window at that point
            a = np.take_along_axis(_windows(a, ps), k[..., None], axis=-1)[..., 0]
        else:
            a = layer_forward(p, a, (np.abs(prm[0]), np.abs(prm[1])) if absolute and kind == "conv" else prm)
    return a


def _held_loss(planned, params, held, x: np.ndarray, dout: np.ndarray) -> float:
    return float(np.sum(_held_forward(planned, params, held, x) * dout))


def _network_estimate(run, case, h, max_entries):
    """dL/dx by central differences, L = sum(forward(x) * dout), with each ReLU's on/off and each max window's pick
    held as at x: where no ReLU input is 0 and no window ties, a step of h flips neither, and this is the plain central
    difference; at such a kink it is PyTorch's rule (no gradient through a ReLU input of 0, the first maximum)."""
    planned, params, x0, dout = _network_inputs(case)
    acts = forward(planned, x0, params)
    entries = _entries(run, x0.size, max_entries)
    per = x0[0].size
    grad = np.full(x0.shape, np.nan) if entries is not None else np.zeros(x0.shape)
    magnitude = 0.0
    for n in range(x0.shape[0]):  # a step in sample n moves only sample n's part of L: run the network on it alone
        held = tuple(a[n:n + 1] for a in acts)
        xn, dn = np.array(x0[n:n + 1]), dout[n:n + 1]  # xn: a private copy, perturbed in place
        loss = partial(_held_loss, planned, params, held, xn, dn)
        mine = None if entries is None else entries[(entries >= n * per) & (entries < (n + 1) * per)] - n * per
        if mine is None or mine.size:
            grad[n] = numerical_gradient(loss, xn, h, entries=mine)[0]
        magnitude = max(magnitude, float(np.sum(_held_forward(planned, params, held, xn, absolute=True) * np.abs(dn))))
    return grad, ROUNDING_FACTOR * EPS * magnitude / h


def _conv_backward_reference(case: BugCase) -> np.ndarray:
    dout, x, w = _f64(case.dout, case.x, case.w)
    return conv2d_backward_spec(dout, x, w, case.spec, "loops")[0]


def _transposed_reference(case: BugCase) -> np.ndarray:
    x, w = _f64(case.x, case.w)
    return scatter_transposed(x, w, case.spec)[0]


def _grouped_reference(case: BugCase) -> np.ndarray:
    x, w = _f64(case.x, case.w)
    return conv2d_spec(x, w, None, case.spec, "strided")


def _avgpool_reference(case: BugCase) -> np.ndarray:
    """The definition one window at a time: every cell of window (i, j) gets dout[..., i, j] / divisor[i, j]."""
    ps = case.spec
    (dout,) = _f64(case.dout)
    divisor = avg_pool_divisors(ps, case.count_include_pad)
    dxpad = np.zeros((ps.n, ps.c, ps.hp, ps.wp))
    for i in range(ps.oh):
        for j in range(ps.ow):
            r0, c0 = ps.window_origin(i, j)
            dxpad[:, :, r0:r0 + ps.kh, c0:c0 + ps.kw] += (dout[:, :, i, j] / divisor[i, j])[:, :, None, None]
    return dxpad[:, :, ps.top:ps.top + ps.h, ps.left:ps.left + ps.w]


def _max_pool_reference(dout: np.ndarray, x: np.ndarray, ps: ConvSpec) -> np.ndarray:
    """The definition one window at a time: dout[..., i, j] goes to window (i, j)'s first maximum (row-major)."""
    xpad = pad_input(x, ps, value=-np.inf)
    dxpad = np.zeros((ps.n, ps.c, ps.hp, ps.wp))
    for i in range(ps.oh):
        for j in range(ps.ow):
            r0, c0 = ps.window_origin(i, j)
            window = xpad[:, :, r0:r0 + ps.kh, c0:c0 + ps.kw]
            for n in range(ps.n):
                for c in range(ps.c):
                    u, v = np.unravel_index(int(np.argmax(window[n, c])), (ps.kh, ps.kw))
                    dxpad[n, c, r0 + u, c0 + v] += dout[n, c, i, j]
    return crop_padding(dxpad, ps)


def _network_reference(case: BugCase) -> np.ndarray:
    """The chain rule written out with each layer's definition: the convolutions' loop backward, ReLU's mask, the
    pooling windows one at a time."""
    planned, params, x, g = _network_inputs(case)
    acts = forward(planned, x, params)
    for p, prm, a in reversed(list(zip(planned, params, acts))):
        kind = p.layer.kind
        if kind == "conv":
            g = conv2d_backward_spec(g, a, prm[0], p.spec, "loops")[0]
        elif kind == "relu":
            g = np.where(a > 0, g, 0.0)
        elif kind == "max":
            g = _max_pool_reference(g, a, p.spec)
        else:
            g = _avgpool_reference(BugCase(p.spec, a, None, g, True))
    return g


@dataclass(frozen=True)
class Kind:
    """One code path the lab switches bugs on in: what it computes, its independent check, its reference."""

    name: str
    result: str  # the array the code computes: "dx", "y'", "y"
    channel: str  # that array's channel axis, as the page's selector names it
    where: str  # the code carrying the bugs (Markdown; {method} is the bug's method)
    run: Callable[[BugCase, str, str | None], tuple]  # (case, method, bug or None) -> (result, dw or None, db or None)
    check: str  # the check's heading on the page
    estimate: Callable[..., tuple[np.ndarray, float]]  # (run, case, h, max_entries) -> (estimate, its noise)
    reference: Callable[[BugCase], np.ndarray]  # the result by the definition (another code path)
    reference_name: str


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("conv_backward", "dx", "input channel c", "`{method}` backward of conv2d (`conv2d_backward_spec`)",
         _conv_backward_run, "Gradient check (central differences of L = sum(conv2d(x, w) * dout) with respect to x)",
         _conv_backward_estimate, _conv_backward_reference, "the loop definition's dx"),
    Kind("transposed", "y'", "output channel of y'", "direct view of the transposed convolution (`direct_transposed`)",
         _transposed_run, "Gradient check (y' is the input gradient of the forward convolution it inverts: central "
         "differences of L = sum(conv2d(z, w) * x') with respect to z)",
         _transposed_estimate, _transposed_reference, "the scatter definition's y'"),
    Kind("grouped", "y", "output channel f", "`{method}` forward of grouped conv2d (`conv2d_spec`)",
         _grouped_run, "Value check (against the same layer as an ordinary convolution whose kernels are zero outside "
         "their group)", _grouped_estimate, _grouped_reference, "the strided forward's y"),
    Kind("avgpool", "dx", "input channel c", "average pooling's backward (`avg_pool2d_backward_spec`, by `{method}`)",
         _avgpool_run, "Gradient check (central differences of L = sum(avg_pool2d(x) * dout) with respect to x)",
         _avgpool_estimate, _avgpool_reference, "the window-by-window definition's dx"),
    Kind("network", "dx", "input channel c", "`{method}` of the network (`convviz.network.backward`, the chain rule one "
         "layer at a time)", _network_run, "Gradient check (central differences of L = sum(network(x) * dout) with "
         "respect to x, each ReLU's on/off and each max window's pick held as at x)",
         _network_estimate, _network_reference, "the chain rule written out layer by layer"),
)}


def run_bug(bug_id: str, case: BugCase) -> BugRun:
    """Run the bug's code with the bug switched on, and without it, on its kind's case."""
    bug = BUGS[bug_id]
    kind = KINDS[bug.kind]
    ok = kind.run(case, bug.method, None)[0]
    try:
        got, dw, db = kind.run(case, bug.method, bug_id)
    except (ValueError, IndexError) as err:  # what the buggy code would do: report it, do not crash the caller
        return BugRun(bug, None, None, None, f"{type(err).__name__}: {err}", ok)
    return BugRun(bug, got, dw, db, None, ok)


def buggy_backward(bug_id: str, dout: np.ndarray, x: np.ndarray, w: np.ndarray, spec: ConvSpec) -> BugRun:
    """Run conv2d_backward(bug.method) with a conv_backward bug switched on, and without it.

    Args:
        dout: (N, F, OH, OW); x: (N, C, H, W); w: (F, C/groups, KH, KW); spec: their validated geometry.
    """
    return run_bug(bug_id, BugCase(spec, x, w, dout))


def check_bug(run: BugRun, case: BugCase, h: float = 1e-6, max_entries: int | None = 400) -> BugCheck:
    """The kind's independent check (central differences, or the grouped layer's block-diagonal convolution),
    compared with the buggy and the correct result.

    max_entries: estimate about this many entries by central differences (a seeded sample plus some wrong ones, so
        large settings stay fast); None = all.
    """
    numeric, noise = KINDS[run.bug.kind].estimate(run, case, h, max_entries)
    name = run.name
    correct = GradCheck(f"{name} (correct)", run.result_ok, numeric, noise)
    if run.error is not None:
        return BugCheck(None, correct, run.error)
    if not run.same_shape:
        return BugCheck(None, correct, f"shape {run.result.shape} cannot be compared with {numeric.shape}")
    return BugCheck(GradCheck(f"{name} (buggy)", run.result, numeric, noise), correct, "")


def live_check(run: BugRun, case: BugCase) -> tuple[bool, str]:
    """Whether the bug's code with the bug off equals its kind's reference (another code path), as one line."""
    ref = KINDS[run.bug.kind].reference(case)
    diff = float(np.abs(run.result_ok - ref).max(initial=0.0))
    ok = run.result_ok.shape == ref.shape and diff <= 1e-9 * max(float(np.abs(ref).max(initial=0.0)), 1.0)
    code = run.bug.where.split(" (")[0].replace("`", "")
    return ok, f"With the bug switched off, the {code} equals {KINDS[run.bug.kind].reference_name} (max |diff| {diff:.1e})."
