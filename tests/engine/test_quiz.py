"""Quiz questions: answers checked against independent computations, graders against right and wrong answers.

Expected answers come from the plain-loop reference (tests/reference.py, which does not import convviz) by
probing: a one-hot input shows which cells feed an output cell, a one-hot dout shows where its gradient goes,
an all-ones dout shows which cells get none, and the reference unfold gives the im2col column.
"""
import re

import numpy as np
import pytest

from convviz.geometry import ConvSpec
from convviz.quiz import (
    CELLS,
    SIZE,
    TOPICS,
    VALUES,
    cell_label,
    gradient_cells_question,
    im2col_column_question,
    make_question,
    no_gradient_question,
    output_size_question,
    parse_cells,
    parse_size,
    window_cells_question,
)
from tests import reference as ref
from tests.quiz_support import size_by_hand

# (h, w, kernel, stride, padding (t, b, l, r), dilation): the edge cases docs/teaching.md names
LAYERS = [
    (6, 6, (3, 3), (1, 1), (0, 0, 0, 0), (1, 1)),
    (8, 8, (3, 3), (2, 2), (0, 0, 0, 0), (1, 1)),  # stride does not divide: a remainder row and column
    (7, 8, (2, 4), (2, 3), (1, 0, 2, 1), (1, 1)),  # even, non-square kernel, asymmetric padding
    (9, 7, (3, 2), (1, 2), (0, 0, 0, 0), (2, 2)),  # dilation
    (9, 9, (2, 2), (3, 3), (0, 0, 0, 0), (1, 1)),  # stride wider than the kernel: holes between windows
    (5, 5, (3, 3), (1, 1), (8, 0, 0, 0), (1, 1)),  # windows that read padding only
]
SEEDS = range(6)


def spec_of(layer, n=1, c=1, f=1) -> ConvSpec:
    h, w, k, s, p, d = layer
    return ConvSpec.create(h, w, k, s, p, d, n=n, c=c, f=f)


def ref_args(layer):
    _, _, _, s, p, d = layer
    return s, p, d


def fed_cells(layer, i, j) -> set:
    """Input cells whose value moves y[i, j]: one-hot inputs through the reference forward pass."""
    h, w, k, *_ = layer
    weights = np.ones((1, 1, *k))  # no zero tap, so every read cell shows
    out = set()
    for r in range(h):
        for c in range(w):
            x = np.zeros((1, 1, h, w))
            x[0, 0, r, c] = 1.0
            if ref.conv_forward(x, weights, None, *ref_args(layer))[0, 0, i, j] != 0:
                out.add((r, c))
    return out


def reached_cells(layer, i, j) -> set:
    """Cells of dx that a one-hot dout at (i, j) reaches, by the reference backward pass."""
    h, w, k, *_ = layer
    spec = spec_of(layer)
    dout = np.zeros((1, 1, spec.oh, spec.ow))
    dout[0, 0, i, j] = 1.0
    dx, _, _ = ref.conv_backward(dout, np.ones((1, 1, h, w)), np.ones((1, 1, *k)), *ref_args(layer))
    return {(int(r), int(c)) for r, c in zip(*np.nonzero(dx[0, 0]))}


# ------------------------------------------------------------------------------------------- answers


@pytest.mark.parametrize("layer", LAYERS)
def test_output_size_of_the_current_layer_matches_the_reference_forward_shape(layer):
    h, w, k, *_ = layer
    y = ref.conv_forward(np.zeros((1, 1, h, w)), np.ones((1, 1, *k)), None, *ref_args(layer))
    q = output_size_question(spec_of(layer), seed=0)
    assert q.kind == SIZE and q.answer == y.shape[2:]
    assert f"input {h} x {w}" in q.prompt and "current settings" in q.prompt
    assert q.answer == size_by_hand(q.prompt)


@pytest.mark.parametrize("seed", range(1, 8))
def test_output_size_what_if_questions_state_their_layer_and_answer_it(seed):
    """Later seeds change one setting: the answer must match the layer the prompt states, computed by hand."""
    spec = spec_of(LAYERS[2])
    q = output_size_question(spec, seed)
    assert "current settings but with" in q.prompt
    assert q.answer == size_by_hand(q.prompt)


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("seed", SEEDS)
def test_window_cells_are_the_cells_that_move_the_output(layer, seed):
    q = window_cells_question(spec_of(layer), seed)
    i, j = map(int, re.search(r"y\[(\d+), (\d+)\]", q.prompt).groups())
    assert q.kind == CELLS and set(q.answer) == fed_cells(layer, i, j)
    h, w = layer[:2]
    assert set(q.choices) == {(r, c) for r in range(h) for c in range(w)}


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("seed", SEEDS)
def test_gradient_cells_are_where_one_upstream_value_lands(layer, seed):
    q = gradient_cells_question(spec_of(layer), seed)
    i, j = map(int, re.search(r"dout\[(\d+), (\d+)\]", q.prompt).groups())
    assert set(q.answer) == reached_cells(layer, i, j)


@pytest.mark.parametrize("layer", LAYERS)
def test_no_gradient_cells_are_zero_in_dx_for_an_all_ones_dout(layer):
    h, w, k, *_ = layer
    spec = spec_of(layer)
    dx, _, _ = ref.conv_backward(np.ones((1, 1, spec.oh, spec.ow)), np.ones((1, 1, h, w)), np.ones((1, 1, *k)),
                                 *ref_args(layer))
    q = no_gradient_question(spec)
    assert set(q.answer) == {(int(r), int(c)) for r, c in zip(*np.nonzero(dx[0, 0] == 0))}


def test_no_gradient_by_hand_for_a_stride_that_does_not_divide():
    """8x8, 3x3 kernel, stride 2: (8 - 3) mod 2 = 1, so row 7 and column 7 are never read."""
    q = no_gradient_question(ConvSpec.create(8, 8, 3, 2))
    assert set(q.answer) == {(7, c) for c in range(8)} | {(r, 7) for r in range(8)}
    assert "mod 2 = 1" in q.explanation


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("seed", SEEDS)
def test_im2col_column_values_match_the_reference_unfold(layer, seed):
    h, w, k, s, (t, b, left, r), d = layer
    x = np.random.default_rng(seed).standard_normal((2, 3, h, w))
    spec = spec_of(layer, n=2, c=3)
    q = im2col_column_question(spec, x, seed)

    col = int(re.search(r"column l = (\d+)", q.prompt).group(1))
    n = int(re.search(r"sample n = (\d+)", q.prompt).group(1))
    first, last = map(int, re.search(r"rows (\d+) to (\d+)", q.prompt).groups())
    padded = ref.pad4(x, t, b, left, r)  # the reference unfold pads symmetrically: pad first, then unfold with 0
    cols = ref.unfold(padded, k, s, (0, 0), d)
    assert q.kind == VALUES
    np.testing.assert_array_equal(q.answer, cols[n, first : last + 1, col])


def test_im2col_column_by_hand():
    """x = 0..15 in a 4x4 grid, 2x2 kernel, stride 2: column 3 is window (1, 1), cells 10, 11, 14, 15."""
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    spec = ConvSpec.create(4, 4, 2, 2)
    q = next(q for s in range(50) if "column l = 3," in (q := im2col_column_question(spec, x, s)).prompt)
    assert q.answer == (10.0, 11.0, 14.0, 15.0)
    assert "the whole column" in q.prompt


# ------------------------------------------------------------------------------------------- grading


def test_size_grader_accepts_equivalent_forms_and_marks_wrong_answers():
    q = output_size_question(ConvSpec.create(8, 6, 3, 2), 0)  # OH = (8-3)//2+1 = 3, OW = (6-3)//2+1 = 2
    for right in ["3x2", "3 x 2", "(3, 2)", " 3 ,2 ", "3 by 2", "OH=3, OW=2", "3×2"]:
        g = q.grade(right)
        assert g.correct and g.readable, right
    wrong = q.grade("2 x 3")
    assert not wrong.correct and wrong.readable and "other way round" in wrong.feedback
    assert not q.grade("4x4").correct
    for unreadable in ["", "three by two", "3", "3.5 x 2", "3 x 2 x 1"]:
        g = q.grade(unreadable)
        assert not g.correct and not g.readable, unreadable


def test_cell_grader_ignores_order_duplicates_and_spacing():
    q = window_cells_question(ConvSpec.create(4, 4, 2, 2), 0)
    cells = list(q.answer)
    assert q.grade([cell_label(c) for c in reversed(cells)]).correct  # picked labels, any order
    assert q.grade(" ".join(f"({r},{c})" for r, c in cells + cells[:1])).correct  # typed, with a repeat
    assert q.grade("; ".join(f"{r}, {c}" for r, c in cells)).correct
    missing = q.grade([cell_label(c) for c in cells[1:]])
    assert not missing.correct and missing.readable and "missing" in missing.feedback
    extra = q.grade([cell_label(c) for c in cells] + ["(3, 3)" if (3, 3) not in cells else "(0, 0)"])
    assert not extra.correct and "not in the answer" in extra.feedback
    assert not q.grade("(1, 2) (3").readable


def test_empty_answer_is_right_only_when_no_cell_qualifies():
    covered = no_gradient_question(ConvSpec.create(6, 6, 3, 1))  # stride 1, no padding: every cell is read
    assert covered.answer == () and covered.grade([]).correct and covered.grade("none").correct
    assert not covered.grade(["(0, 0)"]).correct
    skipped = no_gradient_question(ConvSpec.create(7, 7, 2, 2))  # row 6 and column 6 are never read
    assert not skipped.grade([]).correct


def test_value_grader_wants_the_order_and_accepts_two_decimals():
    x = np.array([[[[0.123, -1.5], [2.0, 3.456]]]])
    q = im2col_column_question(ConvSpec.create(2, 2, 2), x, 0)  # one window: the whole input, row-major
    assert q.answer == (0.123, -1.5, 2.0, 3.456)
    assert q.grade("0.12, -1.5, 2, 3.46").correct
    assert q.grade("[0.123 -1.50 2.0 3.456]").correct
    assert not q.grade("-1.5, 0.12, 2, 3.46").correct  # same values, wrong order
    assert not q.grade("0.12, -1.5, 2").correct
    assert not q.grade("0.1, -1.5, 2, 3.46").correct  # off by more than the rounding
    assert not q.grade("no idea").readable


def test_questions_are_deterministic_per_seed_and_vary_across_seeds():
    spec = ConvSpec.create(9, 9, 3, 1)
    x = np.arange(81.0).reshape(1, 1, 9, 9)
    for topic in TOPICS:
        assert make_question(topic, spec, x, 3) == make_question(topic, spec, x, 3)
    prompts = {make_question("window_cells", spec, x, s).prompt for s in range(10)}
    assert len(prompts) > 3


def test_make_question_rejects_unknown_topics_and_missing_data():
    spec = ConvSpec.create(4, 4, 2)
    with pytest.raises(ValueError, match="topic"):
        make_question("nope", spec)
    with pytest.raises(ValueError, match="x:"):
        make_question("im2col_column", spec)


def test_parsers_directly():
    assert parse_size("(12, 7)") == (12, 7)
    assert parse_cells("(0,1),(2,3)") == {(0, 1), (2, 3)}
    assert parse_cells("(-1, 0)") == {(-1, 0)}
    assert parse_cells("") == frozenset()


@pytest.mark.parametrize("layer", LAYERS)
def test_the_shapes_page_topic_never_asks_the_size_the_page_already_prints(layer):
    spec = spec_of(layer)
    for seed in range(6):
        q = make_question("output_size", spec, None, seed)
        assert "current settings but with" in q.prompt and q.answer == size_by_hand(q.prompt)
    assert make_question("output_size_current", spec).answer == (spec.oh, spec.ow)
