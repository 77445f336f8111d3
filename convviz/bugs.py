"""The bug lab: six classic convolution-backward bugs, each switched on inside the engine's real code path.

Each bug is a private `_bug` switch in convviz.conv (the method's own function runs, with one line changed), so
what the lab shows is exactly what that wrong line does. A buggy run that raises (a shape mismatch, an index
out of range) is caught and reported as the outcome of that code, never re-raised.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .conv import conv2d_backward_spec, conv2d_spec
from .geometry import ConvSpec
from .gradcheck import EPS, ROUNDING_FACTOR, GradCheck, numerical_gradient, sample_entries


@dataclass(frozen=True)
class Bug:
    """One classic bug: where it lives, the wrong and right line, and settings (URL query) that expose it."""

    id: str
    title: str
    method: str  # the conv2d_backward method whose code carries the bug
    wrong: str
    right: str
    why: str
    expose: Mapping[str, str]  # URL query parameters (see convviz.ui.settings) that make the bug visible

    def exposed(self, spec: ConvSpec, w: np.ndarray) -> bool:
        """Whether these settings make the buggy dx differ (False means the bug hides here)."""
        return _EXPOSED[self.id](spec, w)


def _overlap(spec: ConvSpec) -> bool:
    return (spec.sh < spec.ekh and spec.oh > 1) or (spec.sw < spec.ekw and spec.ow > 1)


_EXPOSED = {
    "no_dilate": lambda spec, w: (spec.sh > 1 and spec.oh > 1) or (spec.sw > 1 and spec.ow > 1),
    "no_remainder": lambda spec, w: spec.rem_h > 0 or spec.rem_w > 0,
    "col2im_assign": lambda spec, w: _overlap(spec),
    "crop_negative": lambda spec, w: spec.bottom == 0 or spec.right == 0,
    "height_for_width": lambda spec, w: (spec.hp - spec.ekw) // spec.sw + 1 != spec.ow,
    "no_flip": lambda spec, w: not np.array_equal(w, w[:, :, ::-1, ::-1]),
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
)}


@dataclass(frozen=True)
class BugRun:
    """What the buggy code returns (or the error it raises) beside the correct gradients."""

    bug: Bug
    dx: np.ndarray | None  # (N, C, H, W) expected; None when the buggy code raised
    dw: np.ndarray | None
    db: np.ndarray | None
    error: str | None  # "ExceptionType: message" when the buggy code raised
    dx_ok: np.ndarray  # (N, C, H, W) the correct dx, same method without the bug

    @property
    def same_shape(self) -> bool:
        return self.dx is not None and self.dx.shape == self.dx_ok.shape

    @property
    def dx_aligned(self) -> np.ndarray:
        """(N, C, H, W) the buggy dx in the correct shape: its top-left part, NaN where it has no value."""
        out = np.full(self.dx_ok.shape, np.nan)
        if self.dx is not None and self.dx.ndim == 4:
            n, c = min(self.dx.shape[0], out.shape[0]), min(self.dx.shape[1], out.shape[1])
            hh, ww = min(self.dx.shape[2], out.shape[2]), min(self.dx.shape[3], out.shape[3])
            out[:n, :c, :hh, :ww] = self.dx[:n, :c, :hh, :ww]
        return out

    @property
    def wrong_mask(self) -> np.ndarray:
        """(N, C, H, W) True where the buggy dx differs beyond rounding or has no value at all."""
        scale = max(float(np.abs(self.dx_ok).max(initial=0.0)), 1.0)
        diff = np.abs(self.dx_aligned - self.dx_ok)
        return np.isnan(diff) | (np.nan_to_num(diff) > 1e-9 * scale)

    @property
    def max_abs_diff(self) -> float | None:
        return float(np.abs(self.dx - self.dx_ok).max(initial=0.0)) if self.same_shape else None

    @property
    def outcome(self) -> str:
        """One sentence: what the buggy code did."""
        if self.error is not None:
            return f"The buggy code raises {self.error}"
        if not self.same_shape:
            return f"The buggy code returns dx of shape {self.dx.shape} instead of {self.dx_ok.shape}."
        wrong = int(self.wrong_mask.sum())
        if wrong == 0:
            return "These settings hide the bug: the buggy dx equals the correct one."
        return f"{wrong} of {self.dx_ok.size} dx entries are wrong; max |diff| = {self.max_abs_diff:.4g}."


def buggy_backward(bug_id: str, dout: np.ndarray, x: np.ndarray, w: np.ndarray, spec: ConvSpec) -> BugRun:
    """Run conv2d_backward(bug.method) with the bug switched on, and without it.

    Args:
        dout: (N, F, OH, OW); x: (N, C, H, W); w: (F, C/groups, KH, KW); spec: their validated geometry.
    """
    bug = BUGS[bug_id]
    dout, x, w = (np.asarray(a, dtype=np.float64) for a in (dout, x, w))
    dx_ok = conv2d_backward_spec(dout, x, w, spec, bug.method)[0]
    try:
        dx, dw, db = conv2d_backward_spec(dout, x, w, spec, bug.method, _bug=bug_id)
    except (ValueError, IndexError) as err:  # what the buggy code would do: report it, do not crash the caller
        return BugRun(bug, None, None, None, f"{type(err).__name__}: {err}", dx_ok)
    return BugRun(bug, dx, dw, db, None, dx_ok)


@dataclass(frozen=True)
class BugCheck:
    """Gradient check of dx: the buggy analytic dx and the correct one against the same central differences."""

    buggy: GradCheck | None  # None when the buggy dx cannot be compared (it raised or has the wrong shape)
    correct: GradCheck
    note: str  # why buggy is None, else ""

    @property
    def buggy_passed(self) -> bool:
        return self.buggy is not None and self.buggy.passed


def check_bug(
    run: BugRun, x: np.ndarray, w: np.ndarray, dout: np.ndarray, spec: ConvSpec, h: float = 1e-6, max_entries: int | None = 400
) -> BugCheck:
    """Central-difference dx with L = sum(conv2d(x, w) * dout), compared with the buggy and the correct dx.

    max_entries: estimate about this many dx entries (a seeded sample plus some wrong ones, so large settings stay
        fast); None = all.

    x: (N, C, H, W); w: (F, C/groups, KH, KW); dout: (N, F, OH, OW). The bias does not change dL/dx, so it is left out.
    """
    x = np.array(x, dtype=np.float64)  # a private copy: numerical_gradient perturbs it in place
    w, dout = np.asarray(w, dtype=np.float64), np.asarray(dout, dtype=np.float64)

    def loss() -> float:
        return float(np.sum(conv2d_spec(x, w, None, spec, "im2col") * dout))

    magnitude = float(np.sum(conv2d_spec(np.abs(x), np.abs(w), None, spec, "im2col") * np.abs(dout)))
    noise = ROUNDING_FACTOR * EPS * magnitude / h
    entries = sample_entries(x.size, max_entries, np.random.default_rng(0))
    if entries is not None:  # a sample must not miss the bug: always estimate some of the entries it got wrong
        entries = np.union1d(entries, np.flatnonzero(run.wrong_mask)[: max_entries // 4])
    numeric = numerical_gradient(loss, x, h, entries=entries)
    correct = GradCheck("dx (correct)", run.dx_ok, numeric, noise)
    if run.error is not None:
        return BugCheck(None, correct, run.error)
    if not run.same_shape:
        return BugCheck(None, correct, f"shape {run.dx.shape} cannot be compared with {numeric.shape}")
    return BugCheck(GradCheck("dx (buggy)", run.dx, numeric, noise), correct, "")


def live_check(run: BugRun, dout: np.ndarray, x: np.ndarray, w: np.ndarray, spec: ConvSpec) -> tuple[bool, str]:
    """Whether the correct dx of the bug's method (bug off) equals the loop definition's dx, as one line."""
    ref = conv2d_backward_spec(np.asarray(dout, float), np.asarray(x, float), np.asarray(w, float), spec, "loops")[0]
    diff = float(np.abs(run.dx_ok - ref).max(initial=0.0))
    ok = diff <= 1e-9 * max(float(np.abs(ref).max(initial=0.0)), 1.0)
    return ok, f"With the bug switched off, the {run.bug.method} backward equals the loop definition (max |diff| {diff:.1e})."
