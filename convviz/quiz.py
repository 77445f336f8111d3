"""Predict-then-reveal questions built from a layer's geometry (and its data where the answer needs values).

Each maker is a pure function of a layer's spec (a `ConvSpec`, a `TransposedSpec` for the transposed
convolution's size, or the network page's stack, a `NetSpec`, for its receptive field; plus `x` for im2col) and a
question seed, so the same settings and seed always give the same question, and a new seed gives a new question from
the same settings.

Coordinates: cells are named (row, column) in INPUT coordinates, the labels the figures put on the padded
input's axes: row 0 is the first real input row, padding rows are -1, -2, ... above and H, H+1, ... below.
Questions about cells ask for real input cells only (padding excluded): padding is not part of x and gets
no gradient anyone keeps. The im2col question asks for values, padding zeros included, because the column
holds them.

A grader accepts equivalent answers: "4x4", "4 x 4", "(4, 4)", "4 by 4" for a size (and "5" for a square one, the
receptive field); cells in any order,
repeated or not, typed as "(0, 1) (2, 3)" or picked as labels; values separated by commas or spaces,
within the rounding the prompt states; a count as "296", "1,234" or "296 parameters". A wrong answer that is a
known slip (the output padding left out, the biases forgotten, ...) gets a hint naming the slip.
"""
from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import numpy as np

from .geometry import ConvSpec, common_divisors, pad_input
from .network import MAX_KERNEL, MAX_LAYERS, Layer, NetSpec, parse_layer, receptive_field
from .transposed import TransposedSpec

Cell = tuple[int, int]
SIZE, CELLS, VALUES, COUNT = "size", "cells", "values", "count"

# Values in the im2col question may be typed rounded to 2 decimals: half a unit in the last place, plus slack
# for binary rounding of inputs such as 0.125 -> "0.13".
VALUE_TOLERANCE = 0.005 + 1e-9
MAX_LISTED = 60  # cells or values spelled out in an explanation; longer lists are summarised

_INT = re.compile(r"[+-]?\d+")
_NUM = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_THOUSANDS = re.compile(r"(?<=\d)[,_\u2009\u202f'](?=\d{3}(?!\d))")  # 1,234 / 1_234 / 1 234 (thin space) / 1'234


@dataclass(frozen=True)
class Grade:
    """The verdict on one response. `readable` is False when the response could not be parsed at all
    (then it is neither right nor wrong: the UI asks again and the score does not move)."""

    correct: bool
    readable: bool
    feedback: str


@dataclass(frozen=True)
class Question:
    """One question: the prompt with the numbers, the answer, how to type it, and the explanation.

    answer: (OH, OW) for SIZE; a sorted tuple of (row, col) cells for CELLS; a tuple of floats for VALUES;
        (count,) for COUNT.
    choices: for CELLS, every cell a learner may pick (the real input cells), row-major.
    mistakes: (wrong answer, hint) pairs for known slips, each wrong answer in the form of `answer`; the grader adds
        the hint when a response is one of them. None of them equals the answer.
    """

    topic: str  # which maker built it, e.g. "output_size"
    kind: str  # SIZE, CELLS or VALUES
    prompt: str
    answer: tuple
    explanation: str
    how_to_answer: str
    choices: tuple[Cell, ...] = ()
    mistakes: tuple[tuple[tuple, str], ...] = ()
    subject: str = "the output"  # SIZE: what the size is of, as the feedback names it
    square: bool = False  # SIZE: rows = columns always, so one number n is read as n x n

    @property
    def answer_text(self) -> str:
        """The answer in the form a learner would type it."""
        if self.kind == SIZE:
            return f"{self.answer[0]} x {self.answer[1]}"
        if self.kind == COUNT:
            return str(self.answer[0])
        if self.kind == CELLS:
            return cells_text(self.answer) if self.answer else "none"
        return ", ".join(fmt_value(v) for v in self.answer)

    def grade(self, response: str | Iterable[str]) -> Grade:
        """Grade a typed string, or an iterable of picked cell labels such as ["(0, 1)", "(2, 3)"]."""
        text = response if isinstance(response, str) else " ".join(str(r) for r in response)
        return _GRADERS[self.kind](self, text)


# ------------------------------------------------------------------------------------------ text helpers


def cell_label(cell: Cell) -> str:
    """'(r, c)': the label a multiselect shows and `parse_cells` reads back."""
    return f"({cell[0]}, {cell[1]})"


def cells_text(cells: Iterable[Cell]) -> str:
    cells = list(cells)
    shown = " ".join(cell_label(c) for c in cells[:MAX_LISTED])
    return shown + (f" ... ({len(cells)} cells in all)" if len(cells) > MAX_LISTED else "")


def fmt_value(v: float) -> str:
    """Integers without a decimal point; other values to 2 decimals (what the prompt says it accepts)."""
    return str(int(round(v))) if float(v).is_integer() else f"{v:.2f}"


def parse_size(text: str) -> tuple[int, int] | None:
    """'4x4', '4 x 4', '(4, 4)', '4 by 4', 'OH=4, OW=4' -> (4, 4); None unless exactly two whole numbers."""
    numbers = _NUM.findall(text)
    if len(numbers) != 2 or not all(_INT.fullmatch(n) for n in numbers):
        return None
    return int(numbers[0]), int(numbers[1])


def parse_cells(text: str) -> frozenset[Cell] | None:
    """'(0, 1) (2, 3)', '0,1; 2,3', '[(0,1),(2,3)]' -> {(0, 1), (2, 3)}; '' or 'none' -> empty set.

    Whole numbers are paired in the order written; an odd count, or a decimal number, is unreadable (None).
    """
    if text.strip().lower() in ("", "none", "no cells", "nothing", "{}", "[]", "()", "-"):
        return frozenset()
    numbers = _NUM.findall(text)
    if not numbers or len(numbers) % 2 or not all(_INT.fullmatch(n) for n in numbers):
        return None
    ints = [int(n) for n in numbers]
    return frozenset(zip(ints[::2], ints[1::2]))


def parse_count(text: str) -> int | None:
    """'296', '1,234', '1 234', '296 parameters', '= 296.' -> the whole number; None unless exactly one whole number
    is typed.

    A comma (underscore, thin space, apostrophe) before exactly three digits is a thousands separator; a full stop
    ending the answer is not a decimal point."""
    numbers = _NUM.findall(_THOUSANDS.sub("", text.strip().removesuffix(".")))
    if len(numbers) != 1 or not _INT.fullmatch(numbers[0]):
        return None
    return int(numbers[0])


def parse_values(text: str) -> tuple[float, ...] | None:
    """'1, 2, 3', '[1 2 3]', '0.5; -1.25' -> a tuple of floats in order; None if no number is found."""
    numbers = _NUM.findall(text)
    return tuple(float(n) for n in numbers) if numbers else None


# ------------------------------------------------------------------------------------------ graders


def _slip(q: Question, got: tuple) -> str:
    """' (hint)' when `got` is one of the question's known slips, else ''."""
    return next((f" ({hint})" for wrong, hint in q.mistakes if tuple(wrong) == got), "")


def _grade_size(q: Question, text: str) -> Grade:
    got = parse_size(text)
    if got is None and q.square and (n := parse_count(text)) is not None:
        got = (n, n)
    if got is None:
        return Grade(False, False, ("Type one whole number r, or rows x columns, e.g. 5 or 5 x 5." if q.square else
                                    "Type two whole numbers, OH then OW, e.g. 4 x 3."))
    if got == tuple(q.answer):
        return Grade(True, True, f"Right: {q.subject} is {q.answer_text}.")
    hint = (" (you have the two numbers the other way round: OH first, then OW)" if got[::-1] == tuple(q.answer)
            else _slip(q, got))
    return Grade(False, True, f"Not quite: you said {got[0]} x {got[1]}, {q.subject} is {q.answer_text}{hint}.")


def _grade_count(q: Question, text: str) -> Grade:
    got = parse_count(text)
    if got is None:
        return Grade(False, False, "Type one whole number, e.g. 296 (1,234 with a thousands separator is fine).")
    if got == q.answer[0]:
        return Grade(True, True, f"Right: {q.answer_text}.")
    return Grade(False, True, f"Not quite: you said {got}, the answer is {q.answer_text}{_slip(q, (got,))}.")


def _grade_cells(q: Question, text: str) -> Grade:
    got = parse_cells(text)
    if got is None:
        return Grade(False, False, "Type cells as (row, column) pairs, e.g. (0, 1) (2, 3), or leave it empty for none.")
    want = frozenset(q.answer)
    if got == want:
        return Grade(True, True, f"Right: {len(want)} cell{'s' if len(want) != 1 else ''}.")
    missing, extra = sorted(want - got), sorted(got - want)
    parts = []
    if missing:
        parts.append(f"missing {cells_text(missing)}")
    if extra:
        parts.append(f"not in the answer {cells_text(extra)}")
    return Grade(False, True, "Not quite: " + "; ".join(parts) + ".")


def _grade_values(q: Question, text: str) -> Grade:
    got = parse_values(text)
    if got is None:
        return Grade(False, False, "Type the numbers in order, separated by commas or spaces.")
    want = np.asarray(q.answer, dtype=float)
    if len(got) != len(want):
        return Grade(False, True, f"Not quite: the column part has {len(want)} values, you gave {len(got)}.")
    off = np.flatnonzero(np.abs(np.asarray(got) - want) > VALUE_TOLERANCE)
    if off.size == 0:
        return Grade(True, True, f"Right: all {len(want)} values, in order.")
    first = int(off[0])
    return Grade(False, True, f"Not quite: {off.size} of {len(want)} values differ; the first is entry {first} "
                              f"(you said {fmt_value(got[first])}, it is {fmt_value(want[first])}).")


_GRADERS: dict[str, Callable[[Question, str], Grade]] = {SIZE: _grade_size, CELLS: _grade_cells, VALUES: _grade_values,
                                                           COUNT: _grade_count}


# ------------------------------------------------------------------------------------------ geometry helpers


def layer_text(spec: ConvSpec) -> str:
    """The layer's numbers as a question states them."""
    pad = {"valid": "'valid' (no padding)", "same": "'same' (TensorFlow rule)", "full": "'full' (EK-1 on every side)"}
    padding = pad.get(spec.mode, f"(top, bottom, left, right) = {spec.padding}")
    return (f"input {spec.h} x {spec.w}, kernel {spec.kh} x {spec.kw}, stride {spec.sh} x {spec.sw}, "
            f"dilation {spec.dh} x {spec.dw}, padding {padding}")


def window_cells(spec: ConvSpec, i: int, j: int) -> list[Cell]:
    """Every cell, in input coordinates (padding negative or >= H/W), that output cell (i, j)'s window reads."""
    r0, c0 = spec.window_origin(i, j)
    return [(r0 + u * spec.dh - spec.top, c0 + v * spec.dw - spec.left) for u in range(spec.kh) for v in range(spec.kw)]


def is_real(spec: ConvSpec, cell: Cell) -> bool:
    return 0 <= cell[0] < spec.h and 0 <= cell[1] < spec.w


def input_cells(spec: ConvSpec) -> tuple[Cell, ...]:
    return tuple((r, c) for r in range(spec.h) for c in range(spec.w))


def _pick_output_cell(spec: ConvSpec, rng: np.random.Generator) -> Cell:
    return int(rng.integers(spec.oh)), int(rng.integers(spec.ow))


# ------------------------------------------------------------------------------------------ question makers


def _geometry(s: ConvSpec) -> tuple:
    return s.h, s.w, s.kernel_size, s.stride, s.dilation, s.padding


def _size_variants(spec: ConvSpec) -> list[tuple[str, dict]]:
    """The current layer, then layers one change away from it (what-if questions from the same settings)."""
    base = dict(h=spec.h, w=spec.w, kernel_size=spec.kernel_size, stride=spec.stride, padding=spec.padding,
                dilation=spec.dilation)
    if spec.mode != "custom":
        base["padding"] = spec.mode
    changes = [
        ("the current settings", {}),
        ("the current settings but with H + 1", {"h": spec.h + 1}),
        ("the current settings but with W + 2", {"w": spec.w + 2}),
        ("the current settings but with stride 2", {"stride": 2}),
        ("the current settings but with stride 3 x 2", {"stride": (3, 2)}),
        ("the current settings but with dilation 2", {"dilation": 2}),
        ("the current settings but with padding 'same'", {"padding": "same"}),
        ("the current settings but with padding 'full'", {"padding": "full"}),
        ("the current settings but with padding 1 on every side", {"padding": 1}),
        ("the current settings but with a 2 x 4 kernel", {"kernel_size": (2, 4)}),
    ]
    return [(label, {**base, **change}) for label, change in changes]


def _what_if(spec, variants: list[tuple[str, dict]], seed: int, create: Callable, geometry: Callable) -> tuple:
    """(layer, label): seed 0 the current layer (variants[0]); other seeds a valid layer one change away; the current
    layer again if no change makes a valid, different layer.

    Seeds 1, 2, 3, ... cycle through the distinct valid changes (so "New question" does not repeat one until all
    were asked), starting at a place the settings pick (so other settings open with another change)."""
    if not seed:
        return spec, variants[0][0]
    found: dict[tuple, tuple] = {}
    for what, args in variants[1:]:
        try:
            candidate = create(**args)
        except ValueError:
            continue  # e.g. a dilated kernel that no longer fits
        # A change that changes nothing (stride already 2), or the same layer as an earlier change, would repeat a question.
        if geometry(candidate) != geometry(spec):
            found.setdefault(geometry(candidate), (candidate, what))
    if not found:
        return spec, variants[0][0]
    options = list(found.values())
    start = zlib.crc32(repr(geometry(spec)).encode())
    return options[(start + seed - 1) % len(options)]


def _slips(answer: tuple, pairs: Iterable[tuple[tuple, str]]) -> tuple[tuple[tuple, str], ...]:
    """The (wrong answer, hint) pairs that differ from the answer, the first hint kept for a repeated wrong answer."""
    out: dict[tuple, str] = {}
    for wrong, hint in pairs:
        if tuple(wrong) != tuple(answer) and tuple(wrong) not in out:
            out[tuple(wrong)] = hint
    return tuple(out.items())


def output_size_question(spec: ConvSpec, seed: int = 0) -> Question:
    """'What is OH x OW?' Seed 0 asks about the current layer; other seeds about a layer one change away."""
    variants = _size_variants(spec)
    s, label = spec, variants[0][0]
    if seed:
        for idx in np.random.default_rng(seed).permutation(np.arange(1, len(variants))):
            what, args = variants[int(idx)]
            try:
                candidate = ConvSpec.create(**args)
            except ValueError:
                continue  # e.g. a dilated kernel that no longer fits: try the next change
            if _geometry(candidate) != _geometry(spec):  # a change that changes nothing (stride already 2) would repeat the question
                s, label = candidate, what
                break
    rem = [f"{s.rem_h} row(s) at the bottom" if s.rem_h else "", f"{s.rem_w} column(s) at the right" if s.rem_w else ""]
    rem_txt = " and ".join(r for r in rem if r)
    explanation = (
        f"Padding (top, bottom, left, right) = {s.padding}; effective kernel EKH = {s.dh}*({s.kh}-1)+1 = {s.ekh}, "
        f"EKW = {s.dw}*({s.kw}-1)+1 = {s.ekw}. {s.output_size_formula('h')}; {s.output_size_formula('w')}. "
        + (f"The floor drops a remainder: {rem_txt} of the padded input are never read by any window."
           if rem_txt else "No remainder: the windows reach the last padded row and column.")
    )
    return Question(
        topic="output_size", kind=SIZE,
        prompt=f"With {label} ({layer_text(s)}), what is the output size OH x OW?",
        answer=(s.oh, s.ow), explanation=explanation, how_to_answer="Type OH x OW, e.g. 4 x 3.",
    )


def window_cells_question(spec: ConvSpec, seed: int = 0) -> Question:
    """'Which input cells feed output cell (i, j)?' Real input cells only, in input coordinates."""
    i, j = _pick_output_cell(spec, np.random.default_rng(seed))
    cells = window_cells(spec, i, j)
    real = sorted(c for c in cells if is_real(spec, c))
    pads = [c for c in cells if not is_real(spec, c)]
    r0, c0 = spec.window_origin(i, j)
    explanation = (
        f"The window of y[{i}, {j}] starts at padded row {i}*{spec.sh} = {r0} and column {j}*{spec.sw} = {c0}, that is "
        f"input ({r0 - spec.top}, {c0 - spec.left}) once the padding ({spec.top} top, {spec.left} left) is taken off; "
        f"its {spec.kh} x {spec.kw} taps step {spec.dh} row(s) and {spec.dw} column(s) apart. "
        f"Input cells read: {cells_text(real) if real else 'none'}."
        + (f" It also reads {len(pads)} padding cell(s) ({cells_text(pads)}), which hold 0 and are not part of x." if pads else "")
    )
    return Question(
        topic="window_cells", kind=CELLS,
        prompt=(f"Layer: {layer_text(spec)}. Which cells of the input x feed output cell y[{i}, {j}] "
                f"(in every input channel)? Give (row, column) in input coordinates, as labelled on the figure's axes; "
                f"leave out padding cells."),
        answer=tuple(real), explanation=explanation, choices=input_cells(spec),
        how_to_answer="Pick the cells (or leave it empty if only padding is read).",
    )


def gradient_cells_question(spec: ConvSpec, seed: int = 0) -> Question:
    """'Which cells of dx does the upstream value dout[i, j] reach?' The forward window, read backwards."""
    i, j = _pick_output_cell(spec, np.random.default_rng(seed))
    cells = window_cells(spec, i, j)
    real = sorted(c for c in cells if is_real(spec, c))
    explanation = (
        f"The gradient flows back through the same window that produced y[{i}, {j}]: every input cell that window "
        f"read gets dout[{i}, {j}] times the kernel tap that multiplied it. The window starts at input "
        f"({i * spec.sh - spec.top}, {j * spec.sw - spec.left}) with taps {spec.dh} row(s) and {spec.dw} column(s) apart: "
        f"{cells_text(real) if real else 'no real input cell (only padding)'}."
        + (" Taps landing on padding are cropped off with the padding." if len(real) < len(cells) else "")
    )
    return Question(
        topic="gradient_cells", kind=CELLS,
        prompt=(f"Layer: {layer_text(spec)}. Which cells of dx receive a contribution from the upstream gradient "
                f"dout[{i}, {j}] (assume no kernel tap is zero)? Give (row, column) in input coordinates; "
                f"padding cells are cropped off dx, so leave them out."),
        answer=tuple(real), explanation=explanation, choices=input_cells(spec),
        how_to_answer="Pick the cells (or leave it empty if the window reads only padding).",
    )


def no_gradient_question(spec: ConvSpec, seed: int = 0) -> Question:
    """'Which cells of x get no gradient at all, whatever dout is?' The cells no window reads."""
    covered = spec.coverage()[spec.top : spec.top + spec.h, spec.left : spec.left + spec.w] > 0  # (H, W) of x
    never = tuple((int(r), int(c)) for r, c in zip(*np.nonzero(~covered)))
    # Cells skipped before the remainder rows/columns: taps spread wider than the stride leave holes.
    inside = spec.coverage()[: spec.hp - spec.rem_h, : spec.wp - spec.rem_w]
    skipped_inside = bool((inside == 0).any())
    explanation = (
        f"A cell gets gradient only through the windows that read it. Remainder: r = (H + top + bottom - EKH) mod SH = "
        f"({spec.h} + {spec.top} + {spec.bottom} - {spec.ekh}) mod {spec.sh} = {spec.rem_h} row(s), and likewise "
        f"({spec.w} + {spec.left} + {spec.right} - {spec.ekw}) mod {spec.sw} = {spec.rem_w} column(s), are never reached"
        + (f"; and stride {spec.sh} x {spec.sw} jumps past cells that no tap of the {spec.kh} x {spec.kw} kernel "
           f"(dilation {spec.dh} x {spec.dw}) lands on"
           if skipped_inside else "")
        + f". Cells of x never read: {cells_text(never) if never else 'none: every cell of x gets gradient'}."
    )
    return Question(
        topic="no_gradient", kind=CELLS,
        prompt=(f"Layer: {layer_text(spec)}. Which cells of x get no gradient at all, whatever dout is? "
                f"Give (row, column) in input coordinates."),
        answer=never, explanation=explanation, choices=input_cells(spec),
        how_to_answer="Pick the cells, or leave it empty for 'none: every cell gets gradient'.",
    )


def im2col_column_question(spec: ConvSpec, x: np.ndarray, seed: int = 0) -> Question:
    """'What does column l of im2col hold?' For sample n and channel c: KH*KW values in (u, v) order (the page calls
    columns l and keeps k for the channel index array).

    Args:
        x: (N, C, H, W) the layer's input; the question picks the sample n and channel c from the seed.
    """
    N, C = x.shape[:2]
    rng = np.random.default_rng(seed)
    i, j = _pick_output_cell(spec, rng)
    n, c = int(rng.integers(N)), int(rng.integers(C))
    k = i * spec.ow + j
    xpad = pad_input(x[n : n + 1, c : c + 1], spec)[0, 0]  # (HP, WP)
    r0, c0 = spec.window_origin(i, j)
    window = xpad[r0 : r0 + spec.ekh : spec.dh, c0 : c0 + spec.ekw : spec.dw]  # (KH, KW)
    values = tuple(float(v) for v in window.ravel())
    rows = f"rows {c * spec.kh * spec.kw} to {(c + 1) * spec.kh * spec.kw - 1} (channel {c})" if C > 1 else "the whole column"
    sample = f" of sample n = {n}" if N > 1 else ""
    cells = [cell for cell in window_cells(spec, i, j)]
    explanation = (
        f"Column l = {k} is window (i, j) = ({k} // OW, {k} % OW) = ({i}, {j}), OW = {spec.ow}. Its rows run over "
        f"(c, u, v) with v fastest; for channel {c} they read x at {cells_text(cells)} (input coordinates; cells "
        f"outside 0..{spec.h - 1} x 0..{spec.w - 1} are padding and read 0): {', '.join(fmt_value(v) for v in values[:MAX_LISTED])}."
    )
    return Question(
        topic="im2col_column", kind=VALUES,
        prompt=(f"Layer: {layer_text(spec)}. im2col{sample} lays every window out as a column (order (oh, ow)), "
                f"rows ordered (c, u, v). What values are in {rows} of column l = {k}, in order? "
                f"Padding reads as 0. Values rounded to 2 decimals are accepted."),
        answer=values, explanation=explanation,
        how_to_answer=f"Type the {len(values)} values in order, separated by commas or spaces.",
    )


def transposed_text(t: TransposedSpec) -> str:
    """A transposed layer's numbers as a question states them (rows x columns)."""
    return (f"input i' {t.h} x {t.w}, kernel {t.kh} x {t.kw}, stride {t.sh} x {t.sw}, dilation {t.dh} x {t.dw}, "
            f"padding p = {t.ph} x {t.pw}, output padding a = {t.oph} x {t.opw}")


def _transposed_geometry(t: TransposedSpec) -> tuple:
    return t.h, t.w, t.kernel_size, t.stride, t.padding, t.output_padding, t.dilation


def _transposed_variants(t: TransposedSpec) -> list[tuple[str, dict]]:
    """The current transposed layer, then layers one change away (invalid ones, e.g. a >= S and a >= D, are skipped)."""
    base = dict(h=t.h, w=t.w, kernel_size=t.kernel_size, stride=t.stride, padding=t.padding,
                output_padding=t.output_padding, dilation=t.dilation)
    changes = [
        ("the current settings", {}),
        ("the current settings but with output padding a = 1", {"output_padding": 1}),
        ("the current settings but with output padding a = 0", {"output_padding": 0}),
        ("the current settings but with stride 2", {"stride": 2}),
        ("the current settings but with stride 2 and output padding a = 1", {"stride": 2, "output_padding": 1}),
        ("the current settings but with stride 3 x 2 and output padding a = 2 x 1",
         {"stride": (3, 2), "output_padding": (2, 1)}),
        ("the current settings but with padding p = 1", {"padding": 1}),
        ("the current settings but with one more input row", {"h": t.h + 1}),
        ("the current settings but with dilation 2", {"dilation": 2}),
        ("the current settings but with a 2 x 4 kernel", {"kernel_size": (2, 4)}),
    ]
    return [(label, {**base, **change}) for label, change in changes]


def transposed_size_question(spec: TransposedSpec, seed: int = 0) -> Question:
    """'What is the transposed convolution's OH x OW?' Seed 0 asks about the current transposed layer; other seeds
    about one a change away (another output padding, stride, padding, input size, dilation or kernel)."""
    t, label = _what_if(spec, _transposed_variants(spec), seed, TransposedSpec.create, _transposed_geometry)
    oh, ow = t.oh, t.ow
    stamped = (t.full_h - t.oph, t.full_w - t.opw)  # S(i'-1) + D(K-1) + 1 per axis, before a and the crop
    explanation = (
        f"Per axis o' = S(i'−1) + D(K−1) + 1 − 2p + a. Rows: {t.output_size_formula('h')}; columns: "
        f"{t.output_size_formula('w')}. The stamps, S apart, each spanning D(K−1)+1 = {t.ekh} x {t.ekw} cells, cover "
        f"{stamped[0]} x {stamped[1]}; output padding adds a = {t.oph} row(s) at the bottom and {t.opw} column(s) at the "
        f"right, and the padding crops p = {t.ph} row(s) from the top and from the bottom, {t.pw} column(s) from the "
        f"left and from the right."
        + (f" Without output padding the output would be {oh - t.oph} x {ow - t.opw}: a picks which of the forward "
           f"input sizes that a convolution maps back to {t.h} x {t.w} this layer restores."
           if t.oph or t.opw else "")
    )
    mistakes = _slips((oh, ow), [
        ((oh - t.oph, ow - t.opw), "that leaves out the output padding a, added at the bottom and right"),
        ((oh + 2 * t.ph, ow + 2 * t.pw), "that is before the crop: p comes off each side, 2p per axis"),
        ((oh + t.ph, ow + t.pw), "p is cropped from both sides of an axis: subtract 2p, not p"),
        ((oh + t.sh, ow + t.sw), "the first stamp starts at 0, so the stamps reach S(i'−1), not S·i'"),
        ((oh - (t.dh - 1) * (t.kh - 1), ow - (t.dw - 1) * (t.kw - 1)), "with dilation D a stamp spans D(K−1) + 1 cells, not K"),
        (((t.h + 2 * t.ph - t.ekh) // t.sh + 1, (t.w + 2 * t.pw - t.ekw) // t.sw + 1),
         "that is the forward convolution's output size; the transposed one maps i' back up to the larger size"),
    ])
    return Question(
        topic="transposed_size", kind=SIZE,
        prompt=(f"With {label} (a transposed convolution, as PyTorch's ConvTranspose2d, with {transposed_text(t)}), "
                f"what is its output size OH x OW?"),
        answer=(oh, ow), explanation=explanation, how_to_answer="Type OH x OW, e.g. 7 x 5.", mistakes=mistakes,
    )


def _group_order(spec: ConvSpec) -> list[int]:
    """The other groups values of this C and F: the ones that divide both (largest first), groups = 1 last."""
    others = [g for g in common_divisors(spec.c, spec.f) if g not in (spec.groups, 1)]
    return sorted(others, reverse=True) + ([1] if spec.groups != 1 else [])


def grouped_params_question(spec: ConvSpec, seed: int = 0) -> Question:
    """'How many learnable parameters?' Seed 0 asks about the current layer with biases; other seeds cycle through
    the other groups values that divide C and F (with biases, then weights only); with no other groups value, the
    current layer's weights only."""
    others = _group_order(spec)
    what_ifs = [(g, bias) for bias in (True, False) for g in others] or [(spec.groups, False), (spec.groups, True)]
    g, bias = (spec.groups, True) if seed == 0 else what_ifs[(seed - 1) % len(what_ifs)]
    c, f, kh, kw = spec.c, spec.f, spec.kh, spec.kw
    cg, fg = c // g, f // g
    weights, ordinary = f * cg * kh * kw, f * c * kh * kw
    b = f if bias else 0
    label = "the current settings" if g == spec.groups else f"the current settings but with groups = {g}"
    kind = ": depthwise" if g == c and g > 1 else (": an ordinary convolution" if g == 1 else "")
    what = ("weights plus biases (one bias per output channel, nn.Conv2d's default)" if bias else
            "weights only (no biases, as with bias=False)")
    if bias:
        count = f"F·(C/g)·KH·KW + F = {f}·{cg}·{kh}·{kw} + {f} = {weights} + {f} = {weights + b}"
        base = f"F·C·KH·KW + F = {f}·{c}·{kh}·{kw} + {f} = {ordinary + f}"
    else:
        count = f"F·(C/g)·KH·KW = {f}·{cg}·{kh}·{kw} = {weights} (with biases, + F = {f} more: F·(C/g)·KH·KW + F)"
        base = f"F·C·KH·KW = {f}·{c}·{kh}·{kw} = {ordinary}"
    if g > 1:
        spans = f"each of the F = {f} kernels spans only its group's C/g = {c}/{g} = {cg} input channel(s)"
        compare = (f" With groups = 1 every kernel would span all C = {c} channels: {base}, so groups = {g} has {g} "
                   f"times fewer weights ({ordinary} → {weights}).")
    else:
        spans = f"an ordinary convolution, each of the F = {f} kernels spans all C/g = {c}/1 = {c} input channels"
        most = max(common_divisors(c, f))
        compare = (" groups = 1 costs the most a layer of these shapes can"
                   + (f"; with groups = {most} each kernel would span {c // most} channel(s), {most} times fewer "
                      f"weights ({ordinary} → {ordinary // most})." if most > 1 else "."))
    explanation = f"With groups = {g}, {spans}, so w is ({f}, {cg}, {kh}, {kw}): {count}." + compare
    slips = [((weights,), f"that is the weights alone: add one bias per output channel, F = {f}") if bias else
             ((weights + f,), "that counts the biases too; the question asks for the weights only")]
    if g > 1:
        slips += [
            ((ordinary + b,), f"that is groups = 1: with groups = {g} each kernel spans only C/g = {cg} input channel(s)"),
            ((fg * cg * kh * kw + (fg if bias else 0),),
             f"that is one group's share; the layer has {g} groups of F/g = {fg} kernels"),
            ((weights // g + b,), "C/g is already the channels one kernel spans: do not divide by g again"),
        ]
    mistakes = _slips((weights + b,), slips)
    return Question(
        topic="grouped_params", kind=COUNT,
        prompt=(f"With {label} (C = {c} input channels, F = {f} output channels, a {kh} x {kw} kernel, "
                f"groups = {g}{kind}), how many learnable parameters does the layer have, counting {what}?"),
        answer=(weights + b,), explanation=explanation, mistakes=mistakes,
        how_to_answer="Type one whole number, e.g. 296.",
    )


# ------------------------------------------------------------------------------------------- receptive field


def _stack_text(ns: NetSpec) -> str:
    """The stack's layers as a question states them, numbered from the input."""
    return "; ".join(f"{i}. {p.layer.describe()}" for i, p in enumerate(ns.planned, 1))


def _net_variants(ns: NetSpec) -> list[tuple[str, dict]]:
    """The current stack, then stacks one change away: a layer's stride, kernel or dilation changed, or a layer
    added (before the first, after the first or after the last). Layers are rebuilt from their tokens, so one the
    grammar refuses (a pooling window too small for its padding) raises NetError and is skipped."""
    layers = ns.layers
    out: list[tuple[str, dict]] = [("the current stack", {"layers": layers})]

    def swap(i: int, changed: Layer) -> tuple[str, ...]:
        return tuple(changed.token if n == i else L.token for n, L in enumerate(layers))

    for i, L in enumerate(layers):
        if L.kind == "relu":
            continue
        name = f"layer {i + 1} ({L.token})"
        s = 2 if L.s == 1 else 1
        out.append((f"the current stack with {name} at stride {s}", {"tokens": swap(i, replace(L, s=s))}))
        k = L.k + 2 if L.k + 2 <= MAX_KERNEL else L.k - 2
        if k >= 1:
            out.append((f"the current stack with {name} given a {k}x{k} window",
                        {"tokens": swap(i, replace(L, k=k))}))
        if L.kind == "conv":
            d = 2 if L.d == 1 else 1
            out.append((f"the current stack with {name} at dilation {d}", {"tokens": swap(i, replace(L, d=d))}))
    if len(layers) < MAX_LAYERS:
        tokens = tuple(L.token for L in layers)
        out += [
            ("the current stack with a 3x3 convolution (c3) added at the end", {"tokens": tokens + ("c3",)}),
            ("the current stack with 2x2 max pooling (max2, stride 2) inserted after layer 1",
             {"tokens": tokens[:1] + ("max2",) + tokens[1:]}),
            ("the current stack with a 3x3 convolution at stride 2 (c3s2) added at the start",
             {"tokens": ("c3s2",) + tokens}),
        ]
    return out


def _field_terms(layers: tuple[Layer, ...]) -> list[tuple[int, Layer, list[tuple[int, int]]]]:
    """(layer number, layer, (number, stride) of every windowed layer before it) for every layer with a window
    (convolution or pooling; a ReLU reads one cell at stride 1)."""
    terms, before = [], []
    for i, L in enumerate(layers, 1):
        if L.kind == "relu":
            continue
        terms.append((i, L, list(before)))
        before.append((i, L.s))
    return terms


def _step(before: list[tuple[int, int]]) -> int:
    return int(np.prod([s for _, s in before]))


def receptive_field_question(ns: NetSpec, seed: int = 0) -> Question:
    """'How many input rows x columns does one output cell of the stack read?' (the receptive field r x r).

    Seed 0 asks about the current stack; other seeds about a stack one change away (a layer's stride, kernel or
    dilation changed, or a layer added) whose receptive field differs from the current one, the current stack if no
    such change makes a valid stack."""
    current = ns.field.size

    def create(layers: tuple[Layer, ...] = (), tokens: tuple[str, ...] = ()) -> NetSpec:
        if tokens:
            layers = tuple(parse_layer(t, i) for i, t in enumerate(tokens, 1))
        candidate = NetSpec.create(layers, ns.input_shape)
        if candidate.field.size == current:  # the page prints the current stack's field: ask about another one
            raise ValueError("same receptive field")
        return candidate

    net, label = _what_if(ns, _net_variants(ns), seed, create, lambda n: n.layers)
    terms = _field_terms(net.layers)
    r = net.field.size
    parts = [(L.effective_kernel - 1) * _step(before) for _, L, before in terms]
    steps = []
    for (i, L, before), part in zip(terms, parts):
        ek = f"k' = {L.d}·({L.k} − 1) + 1 = {L.effective_kernel}" if L.d != 1 else f"k' = {L.k}"
        if before:
            names = "·".join(f"s_{n}" for n, _ in before)
            values = "·".join(str(v) for _, v in before)
            steps.append(f"layer {i} ({L.token}): {ek}, ({L.effective_kernel} − 1)·{names} = "
                         f"({L.effective_kernel} − 1)·{values} = {part}")
        else:
            steps.append(f"layer {i} ({L.token}): {ek}, no stride before it: {L.effective_kernel} − 1 = {part}")
    relus = [i for i, L in enumerate(net.layers, 1) if L.kind == "relu"]
    jump = net.field.jump
    explanation = (
        "Per axis r = 1 + Σ_l (k'_l − 1)·(s_1⋯s_{l−1}): each layer widens the window by its effective kernel "
        "k' = d(k − 1) + 1 minus one, in steps of the strides of every layer before it (pooling layers count like "
        "convolutions"
        + (f"; ReLU, layer{'s' if len(relus) > 1 else ''} {', '.join(map(str, relus))}, reads one cell and adds nothing"
           if relus else "")
        + "). " + "; ".join(steps) + f". So r = 1 + {' + '.join(map(str, parts))} = {r}: one output cell reads a "
        f"window of {r} x {r} cells of x"
        + (f", and neighbouring output cells' windows start s_1⋯s_L = {jump} cells apart" if jump > 1 else "")
        + ". Dilation and strides wider than a window leave holes inside it; r counts the span, holes included."
    )
    windowed = [L for _, L, _ in terms]
    strides_kept = 1 + sum(L.effective_kernel - 1 for L in windowed)
    no_dilation = 1 + sum((L.k - 1) * _step(before) for _, L, before in terms)
    no_pooling = receptive_field(tuple(L for L in net.layers if L.kind == "conv")).size
    own_stride = 1 + sum(part * L.s for (_, L, _), part in zip(terms, parts))
    summed = sum(L.effective_kernel for L in windowed)
    mistakes = _slips((r, r), [
        ((strides_kept,) * 2, "the strides are not multiplied in: after a stride-s layer every tap of a later layer "
                              "steps s input cells, so its (k' − 1) counts s_1⋯s_{l−1} times"),
        ((no_dilation,) * 2, "dilation is left out: a kernel of k taps d apart spans k' = d(k − 1) + 1 cells"),
        ((no_pooling,) * 2, "the pooling layers are left out: a pooling window widens the field like a kernel, and "
                            "its stride multiplies every later layer's step"),
        ((own_stride,) * 2, "a layer's own stride spaces its output cells, not its taps: it multiplies only the "
                            "layers after it"),
        ((summed,) * 2, "kernel sizes do not add up: the first layer reads k' cells, each later one widens the window by "
                        "k' − 1 (times the strides before it)"),
    ])
    return Question(
        topic="receptive_field", kind=SIZE,
        prompt=(f"Stack: {label}, that is net = {net.text} on a {net.input_shape[2]} x {net.input_shape[3]} input "
                f"({_stack_text(net)}). What is the receptive field of one output cell of the last layer on the input "
                f"x: how many input rows x columns does the window it reads span (holes included)?"),
        answer=(r, r), explanation=explanation, how_to_answer="Type rows x columns, e.g. 5 x 5 (or just 5).",
        mistakes=mistakes, subject="the receptive field", square=True,
    )


def gradient_question(spec: ConvSpec, seed: int = 0) -> Question:
    """The input-gradient pages alternate: where one upstream value goes, then which cells get none."""
    return (gradient_cells_question if seed % 2 == 0 else no_gradient_question)(spec, seed // 2)


TOPICS: dict[str, Callable[..., Question]] = {
    # The shapes page prints the current layer's output size, so its quiz asks about a layer one change away; so do
    # the transposed convolution page (it prints o' with the formula) and the grouped page (it prints the parameters).
    "output_size": lambda spec, x, seed: output_size_question(spec, seed + 1),
    "output_size_current": lambda spec, x, seed: output_size_question(spec, 0),
    "window_cells": lambda spec, x, seed: window_cells_question(spec, seed),
    "gradient": lambda spec, x, seed: gradient_question(spec, seed),
    "gradient_cells": lambda spec, x, seed: gradient_cells_question(spec, seed),
    "no_gradient": lambda spec, x, seed: no_gradient_question(spec, seed),
    "im2col_column": lambda spec, x, seed: im2col_column_question(spec, x, seed),
    "transposed_size": lambda spec, x, seed: transposed_size_question(spec, seed + 1),
    "grouped_params": lambda spec, x, seed: grouped_params_question(spec, seed + 1),
    # The network page prints the current stack's receptive field: its quiz asks about a stack one change away.
    "receptive_field": lambda spec, x, seed: receptive_field_question(spec, seed + 1),
}
# The layer (or stack) a topic asks about; ConvSpec if not listed.
SPEC_TYPES: dict[str, type] = {"transposed_size": TransposedSpec, "receptive_field": NetSpec}


def spec_type(topic: str) -> type:
    """The spec class `make_question(topic, ...)` takes: TransposedSpec, NetSpec or ConvSpec."""
    return SPEC_TYPES.get(topic, ConvSpec)


def make_question(topic: str, spec: ConvSpec | TransposedSpec | NetSpec, x: np.ndarray | None = None,
                  seed: int = 0) -> Question:
    """The question of `topic` (a key of TOPICS) for this layer and seed.

    spec: the layer the topic asks about, `spec_type(topic)`: a TransposedSpec for "transposed_size", the network
        page's stack (a NetSpec) for "receptive_field", else a ConvSpec.
    x: (N, C, H, W), needed for im2col.
    """
    if topic not in TOPICS:
        raise ValueError(f"topic: unknown quiz topic {topic!r}. Use one of {', '.join(TOPICS)}.")
    if not isinstance(spec, spec_type(topic)):
        raise ValueError(f"spec: the {topic} question is about a {spec_type(topic).__name__}, got a {type(spec).__name__}.")
    if topic == "im2col_column" and x is None:
        raise ValueError("x: the im2col question needs the input x (N, C, H, W) to ask for its values.")
    return TOPICS[topic](spec, x, seed)
