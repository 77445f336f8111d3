"""Quiz questions: answers checked against independent computations, graders against right and wrong answers.

Expected answers come from the plain-loop reference (tests/reference.py, which does not import convviz) by
probing: a one-hot input shows which cells feed an output cell, a one-hot dout shows where its gradient goes,
an all-ones dout shows which cells get none, and the reference unfold gives the im2col column. The transposed
convolution's size is worked out from o' = S(i'-1) + D(K-1) + 1 - 2p + a (and checked against torch's
conv_transpose2d); a grouped layer's parameter count is torch.nn.Conv2d's.
"""
import re

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convviz.geometry import ConvSpec, common_divisors
from convviz.network import NetSpec
from convviz.quiz import (
    CELLS,
    COUNT,
    SIZE,
    TOPICS,
    VALUES,
    cell_label,
    gradient_cells_question,
    grouped_params_question,
    im2col_column_question,
    make_question,
    no_gradient_question,
    output_size_question,
    parse_cells,
    parse_count,
    parse_size,
    receptive_field_question,
    spec_type,
    transposed_size_question,
    window_cells_question,
)
from convviz.transposed import TransposedSpec
from tests import reference as ref
from tests.quiz_support import (
    field_by_hand,
    grouped_layer,
    net_of,
    size_by_hand,
    transposed_layer,
    transposed_size_by_hand,
)

HYPOTHESIS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

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
    spec = ConvSpec.create(9, 9, 3, 1, c=4, f=8, groups=2)
    tspec = TransposedSpec.create(3, 4, 3, 2, 1, 1)
    net = NetSpec.create("c3,relu,c3", (1, 4, 9, 9))
    x = np.arange(81.0 * 4).reshape(1, 4, 9, 9)
    for topic in TOPICS:
        layer = {TransposedSpec: tspec, NetSpec: net}.get(spec_type(topic), spec)
        assert make_question(topic, layer, x, 3) == make_question(topic, layer, x, 3)
    prompts = {make_question("window_cells", spec, x, s).prompt for s in range(10)}
    assert len(prompts) > 3


def test_make_question_rejects_unknown_topics_and_missing_data():
    spec = ConvSpec.create(4, 4, 2)
    with pytest.raises(ValueError, match="topic"):
        make_question("nope", spec)
    with pytest.raises(ValueError, match="x:"):
        make_question("im2col_column", spec)


def test_make_question_wants_the_spec_its_topic_asks_about():
    conv, tconv = ConvSpec.create(4, 4, 2, c=2, f=2), TransposedSpec.create(4, 4, 2)
    with pytest.raises(ValueError, match="spec: the transposed_size question is about a TransposedSpec, got a ConvSpec"):
        make_question("transposed_size", conv)
    with pytest.raises(ValueError, match="spec: the grouped_params question is about a ConvSpec, got a TransposedSpec"):
        make_question("grouped_params", tconv)
    # The pages print the current layer's size and parameters, so their topics ask about layers one change away.
    for seed in range(4):
        assert make_question("transposed_size", tconv, None, seed) == transposed_size_question(tconv, seed + 1)
        assert make_question("grouped_params", conv, None, seed) == grouped_params_question(conv, seed + 1)


def test_parsers_directly():
    assert parse_size("(12, 7)") == (12, 7)
    assert parse_count("296") == parse_count(" 296 parameters") == parse_count("= 296.") == 296
    assert parse_count("1,234") == parse_count("1_234") == parse_count("1\u2009234") == 1234
    assert parse_count("12,345,678") == 12345678
    for unreadable in ["", "many", "72 + 8", "80.5", "1,23", "3 x 3", "1e3"]:
        assert parse_count(unreadable) is None, unreadable
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


# ------------------------------------------------------------------------------------------- transposed convolution size

# (i'H, i'W, kernel, stride, padding p, output padding a, dilation): the page's default, the guide's odd case, and more
TLAYERS = [
    (6, 6, (3, 3), (1, 1), (0, 0), (0, 0), (1, 1)),
    (3, 3, (3, 3), (2, 2), (1, 1), (1, 1), (1, 1)),  # Dumoulin & Visin relationship 14: o' = 6
    (4, 5, (2, 4), (3, 2), (1, 0), (2, 1), (1, 1)),  # non-square everything, a < S on both axes
    (5, 4, (3, 2), (1, 2), (2, 0), (1, 0), (3, 1)),  # a < D with stride 1 (PyTorch allows it)
    (2, 2, (4, 4), (2, 2), (0, 0), (0, 0), (1, 1)),
]


def tspec_of(layer) -> TransposedSpec:
    h, w, k, s, p, a, d = layer
    return TransposedSpec.create(h, w, k, s, p, a, d)


def formula(s: int, i: int, d: int, k: int, p: int, a: int) -> int:
    return s * (i - 1) + d * (k - 1) + 1 - 2 * p + a


@pytest.mark.parametrize("layer", TLAYERS)
def test_transposed_size_of_the_current_layer_is_the_formula_and_torchs_shape(layer):
    h, w, (kh, kw), (sh, sw), (ph, pw), (ah, aw), (dh, dw) = layer
    want = formula(sh, h, dh, kh, ph, ah), formula(sw, w, dw, kw, pw, aw)
    y = torch.nn.functional.conv_transpose2d(torch.zeros(1, 1, h, w), torch.zeros(1, 1, kh, kw), stride=(sh, sw),
                                             padding=(ph, pw), output_padding=(ah, aw), dilation=(dh, dw))
    assert tuple(y.shape[2:]) == want
    q = transposed_size_question(tspec_of(layer), 0)
    assert q.kind == SIZE and q.topic == "transposed_size" and q.answer == want
    assert "current settings (" in q.prompt and transposed_layer(q.prompt) == (h, w, kh, kw, sh, sw, dh, dw, ph, pw, ah, aw)
    assert "o' = S(i'−1) + D(K−1) + 1 − 2p + a" in q.explanation
    assert f"o' = {sh}*({h}-1) + {dh}*({kh}-1) + 1 - 2*{ph} + {ah} = {want[0]}" in q.explanation
    assert f"o' = {sw}*({w}-1) + {dw}*({kw}-1) + 1 - 2*{pw} + {aw} = {want[1]}" in q.explanation


@pytest.mark.parametrize("layer", TLAYERS)
def test_transposed_what_if_questions_state_their_layer_and_answer_it(layer):
    """Later seeds change one setting: the answer is the size of the layer the prompt states, by the formula, and
    consecutive seeds do not repeat a question until every change was asked."""
    current = transposed_layer(transposed_size_question(tspec_of(layer), 0).prompt)
    prompts = []
    for seed in range(1, 9):
        q = transposed_size_question(tspec_of(layer), seed)
        assert "current settings but with" in q.prompt
        assert q.answer == transposed_size_by_hand(q.prompt)
        assert transposed_layer(q.prompt) != current
        prompts.append(q.prompt)
    assert all(a != b for a, b in zip(prompts, prompts[1:]))
    assert len(set(prompts)) >= 4


def test_transposed_output_padding_variant_by_hand():
    """i' = 3, K = 3, S = 2, p = 1: a = 1 gives 2*2 + 2 + 1 - 2 + 1 = 6, a = 0 gives 5 (relationships 13 and 14)."""
    t = tspec_of(TLAYERS[1])
    q = next(q for s in range(1, 20) if "output padding a = 0 (" in (q := transposed_size_question(t, s)).prompt)
    assert q.answer == (5, 5) and transposed_size_question(t, 0).answer == (6, 6)


def test_transposed_size_grader_right_wrong_garbage_and_hints():
    q = transposed_size_question(tspec_of(TLAYERS[2]), 0)  # rows 3*3 + 1 + 1 - 2 + 2 = 11, columns 2*4 + 3 + 1 + 1 = 13
    assert q.answer == (11, 13)
    for right in ["11 x 13", "11x13", "(11, 13)", "11 by 13", "OH=11, OW=13"]:
        g = q.grade(right)
        assert g.correct and g.readable and "11 x 13" in g.feedback, right
    swapped = q.grade("13 x 11")
    assert not swapped.correct and swapped.readable and "other way round" in swapped.feedback
    no_a = q.grade("9 x 12")
    assert not no_a.correct and "output padding" in no_a.feedback
    uncropped = q.grade("13 x 13")
    assert not uncropped.correct and "before the crop" in uncropped.feedback
    plain = q.grade("12 x 14")
    assert not plain.correct and plain.readable and "(" not in plain.feedback.split("is 11 x 13")[1]
    for garbage in ["", "eleven by thirteen", "11", "11.5 x 13", "11 x 13 x 1"]:
        g = q.grade(garbage)
        assert not g.correct and not g.readable, garbage


@st.composite
def transposed_layers(draw):
    s = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    d = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    a = tuple(draw(st.integers(0, max(si, di) - 1)) for si, di in zip(s, d))
    k = (draw(st.integers(1, 7)), draw(st.integers(1, 7)))
    i = (draw(st.integers(1, 32)), draw(st.integers(1, 32)))
    p = (draw(st.integers(0, 8)), draw(st.integers(0, 8)))
    try:
        return TransposedSpec.create(i[0], i[1], k, s, p, a, d)
    except ValueError:  # p crops the whole output: not a layer
        return TransposedSpec.create(i[0], i[1], k, s, 0, a, d)


@settings(max_examples=150, **HYPOTHESIS)
@given(transposed_layers(), st.integers(0, 50))
def test_transposed_size_questions_grade_the_formulas_answer_right(t, seed):
    q = transposed_size_question(t, seed)
    oh, ow = transposed_size_by_hand(q.prompt)
    assert q.answer == (oh, ow) and oh >= 1 and ow >= 1
    assert q.grade(f"{oh} x {ow}").correct and q.grade(f"({oh}, {ow})").correct
    assert not q.grade(f"{oh + 1} x {ow}").correct and q.grade(f"{oh + 1} x {ow}").readable
    assert not q.grade(f"{oh}").readable
    assert all(wrong != q.answer and not q.grade(f"{wrong[0]} x {wrong[1]}").correct for wrong, _ in q.mistakes)
    if seed == 0:
        assert q.answer == (t.oh, t.ow)


# ------------------------------------------------------------------------------------------- grouped parameters


def torch_params(c: int, f: int, kh: int, kw: int, g: int, bias: bool = True) -> int:
    m = torch.nn.Conv2d(c, f, (kh, kw), groups=g, bias=bias)
    return sum(p.numel() for p in m.parameters())


# (C, F, kernel, groups)
GLAYERS = [(4, 8, (3, 3), 2), (8, 8, (3, 3), 8), (6, 4, (1, 5), 2), (3, 5, (3, 3), 1), (8, 4, (2, 2), 1), (1, 1, (3, 3), 1)]


@pytest.mark.parametrize("layer", GLAYERS)
def test_grouped_params_of_the_current_layer_are_torchs_count(layer):
    c, f, k, g = layer
    q = grouped_params_question(ConvSpec.create(6, 6, k, c=c, f=f, groups=g), 0)
    assert q.kind == COUNT and q.topic == "grouped_params"
    assert grouped_layer(q.prompt) == (c, f, *k, g, True) and "current settings (" in q.prompt
    assert q.answer == (torch_params(c, f, *k, g),)
    assert f"F·(C/g)·KH·KW + F = {f}·{c // g}·{k[0]}·{k[1]} + {f} = " in q.explanation
    assert "groups = 1" in q.explanation


@pytest.mark.parametrize("layer", GLAYERS)
@pytest.mark.parametrize("seed", range(1, 7))
def test_grouped_what_if_questions_use_another_groups_value_that_divides_c_and_f(layer, seed):
    c, f, k, g0 = layer
    q = grouped_params_question(ConvSpec.create(6, 6, k, c=c, f=f, groups=g0), seed)
    qc, qf, kh, kw, g, bias = grouped_layer(q.prompt)
    assert (qc, qf, (kh, kw)) == (c, f, k) and g in common_divisors(c, f)
    if len(common_divisors(c, f)) > 1:
        assert g != g0 and "current settings but with groups" in q.prompt
    assert q.answer == (torch_params(c, f, kh, kw, g, bias),)
    ordinary = torch_params(c, f, kh, kw, 1, bias)
    assert f"{ordinary}" in q.explanation  # what groups = 1 would cost


def test_grouped_questions_ask_with_and_without_biases_across_seeds():
    spec = ConvSpec.create(6, 6, 3, c=4, f=8, groups=2)
    asked = {grouped_layer(grouped_params_question(spec, s).prompt)[4:] for s in range(1, 5)}
    assert asked == {(4, True), (1, True), (4, False), (1, False)}  # the other divisors of 4 and 8, each both ways


def test_grouped_params_grader_right_wrong_garbage_and_hints():
    spec = ConvSpec.create(6, 6, 3, c=4, f=8, groups=4)  # depthwise, M = 2: 8*1*3*3 + 8 = 80
    q = grouped_params_question(spec, 0)
    assert q.answer == (80,) == (torch_params(4, 8, 3, 3, 4),) and q.answer_text == "80"
    for right in ["80", " 80 ", "80 parameters", "= 80."]:
        g = q.grade(right)
        assert g.correct and g.readable and "80" in g.feedback, right
    weights = q.grade("72")
    assert not weights.correct and weights.readable and "weights alone" in weights.feedback
    ordinary = q.grade("296")
    assert not ordinary.correct and "groups = 1" in ordinary.feedback
    assert not q.grade("81").correct and q.grade("81").readable
    for garbage in ["", "eighty", "72 + 8", "80.0", "8 x 10"]:
        g = q.grade(garbage)
        assert not g.correct and not g.readable, garbage
    big = grouped_params_question(ConvSpec.create(8, 8, 7, c=8, f=8, groups=1), 0)  # 8*8*49 + 8 = 3,144
    assert big.answer == (3144,) and big.grade("3,144").correct and big.grade("3144").correct


def test_grouped_weights_only_question_by_hand():
    spec = ConvSpec.create(6, 6, 3, c=4, f=8, groups=2)
    q = next(q for s in range(1, 9) if "weights only" in (q := grouped_params_question(spec, s)).prompt
             and "groups = 4" in q.prompt)
    assert q.answer == (72,) == (torch_params(4, 8, 3, 3, 4, bias=False),)  # 8*1*3*3
    assert "F·(C/g)·KH·KW = 8·1·3·3 = 72" in q.explanation and "F·C·KH·KW = 8·4·3·3 = 288" in q.explanation
    assert "counts the biases" in q.grade("80").feedback


@st.composite
def grouped_layers(draw):
    g = draw(st.integers(1, 8))
    c, f = g * draw(st.integers(1, 8 // g)), g * draw(st.integers(1, 8 // g))
    k = (draw(st.integers(1, 7)), draw(st.integers(1, 7)))
    return ConvSpec.create(8, 8, k, c=c, f=f, groups=g, padding="full")


@settings(max_examples=80, **HYPOTHESIS)
@given(grouped_layers(), st.integers(0, 50))
def test_grouped_params_questions_grade_torchs_count_right(spec, seed):
    q = grouped_params_question(spec, seed)
    c, f, kh, kw, g, bias = grouped_layer(q.prompt)
    want = torch_params(c, f, kh, kw, g, bias)
    assert (c, f, kh, kw) == (spec.c, spec.f, spec.kh, spec.kw) and q.answer == (want,)
    assert q.grade(str(want)).correct and q.grade(f"{want:,}").correct
    assert not q.grade(str(want + 1)).correct and not q.grade("lots").readable
    assert all(not q.grade(str(wrong[0])).correct for wrong, _ in q.mistakes)


# ------------------------------------------------------------------------------------------- receptive field

# (net, input (N, C, H, W), r by hand): r = 1 + sum (k' - 1) * (strides before), worked out on paper
CLASSIC_STACKS = [
    ("c3,relu,c3", (1, 1, 12, 12), 5),  # two 3x3 convolutions see as far as one 5x5: 1 + 2 + 2
    ("c3,max2,c3", (1, 1, 12, 12), 8),  # 1 + 2 + 1*1 + 2*2
    ("c3d1,c3d2,c3d4", (1, 1, 20, 20), 15),  # dilations 1, 2, 4: 1 + 2 + 4 + 8
    ("c3s2,c3s2", (1, 1, 12, 12), 7),  # 1 + 2 + 2*2
]
STACKS = [net for net, _, _ in CLASSIC_STACKS] + ["c3p1,relu,max2,c3s2", "avg3s1p1,c5,relu,max2s1", "c7,c7,c7,c7",
                                                    "relu,c2s3"]


def net_spec(net: str, shape=(1, 2, 32, 32)) -> NetSpec:
    return NetSpec.create(net, shape)


@pytest.mark.parametrize("net, shape, r", CLASSIC_STACKS)
def test_receptive_field_of_classic_stacks_is_the_hand_computed_one(net, shape, r):
    q = receptive_field_question(NetSpec.create(net, shape), 0)
    assert q.topic == "receptive_field" and q.kind == SIZE and q.square
    assert q.answer == (r, r) and field_by_hand(net_of(q.prompt)) == r
    assert "the current stack," in q.prompt and q.answer_text == f"{r} x {r}"
    assert "r = 1 + " in q.explanation and f"= {r}: one output cell reads a window of {r} x {r} cells" in q.explanation


def test_receptive_field_explanation_spells_out_the_sum_with_the_numbers():
    q = receptive_field_question(NetSpec.create("c3,max2,c3", (1, 1, 12, 12)), 0)
    assert "r = 1 + Σ_l (k'_l − 1)·(s_1⋯s_{l−1})" in q.explanation
    assert "layer 1 (c3): k' = 3, no stride before it: 3 − 1 = 2" in q.explanation
    assert "layer 2 (max2): k' = 2, (2 − 1)·s_1 = (2 − 1)·1 = 1" in q.explanation
    assert "layer 3 (c3): k' = 3, (3 − 1)·s_1·s_2 = (3 − 1)·1·2 = 4" in q.explanation
    assert "r = 1 + 2 + 1 + 4 = 8" in q.explanation and "2 cells apart" in q.explanation
    dilated = receptive_field_question(NetSpec.create("c3d1,c3d2,c3d4", (1, 1, 20, 20)), 0)
    assert "k' = 4·(3 − 1) + 1 = 9" in dilated.explanation and "r = 1 + 2 + 4 + 8 = 15" in dilated.explanation


@pytest.mark.parametrize("net", STACKS)
@pytest.mark.parametrize("seed", range(8))
def test_receptive_field_what_if_questions_state_their_stack_and_answer_it(net, seed):
    """Every seed asks about a stack the prompt names in full; the answer is that stack's field, walked by hand; the
    page's topic (seed + 1) asks about a valid stack one change away whose field differs from the printed one."""
    ns = net_spec(net)
    q = make_question("receptive_field", ns, None, seed)
    assert q == receptive_field_question(ns, seed + 1)
    stated = net_of(q.prompt)
    assert q.answer == (field_by_hand(stated),) * 2
    assert NetSpec.create(stated, ns.input_shape).text == stated  # a valid stack on this input
    assert "the current stack with " in q.prompt and stated != ns.text
    assert q.answer[0] != field_by_hand(ns.text)
    assert q.grade(str(q.answer[0])).correct
    assert all(wrong != q.answer and not q.grade(f"{wrong[0]} x {wrong[1]}").correct for wrong, _ in q.mistakes)


def test_receptive_field_questions_vary_with_the_seed_and_cycle_before_repeating():
    ns = net_spec("c3,relu,c3")
    stacks = [net_of(receptive_field_question(ns, s).prompt) for s in range(1, 7)]
    assert len(set(stacks)) == 6  # six different changes before any repeats
    assert receptive_field_question(ns, 3) == receptive_field_question(ns, 3)


def test_receptive_field_falls_back_to_the_current_stack_when_no_change_fits():
    ns = NetSpec.create("c3", (1, 1, 3, 3))  # a 3x3 input: no larger window, no extra layer fits
    q = receptive_field_question(ns, 1)
    assert "the current stack," in q.prompt and q.answer == (3, 3)


def test_receptive_field_grader_accepts_equivalent_forms():
    q = receptive_field_question(NetSpec.create("c3,relu,c3", (1, 1, 12, 12)), 0)
    for right in ["5", "5 x 5", "5x5", "(5, 5)", "5 by 5", " r = 5 ", "5 cells", "5×5"]:
        g = q.grade(right)
        assert g.correct and g.readable and "the receptive field is 5 x 5" in g.feedback, right
    wrong = q.grade("5 x 4")
    assert not wrong.correct and wrong.readable and "the receptive field is 5 x 5" in wrong.feedback
    assert not q.grade("4").correct and q.grade("4").readable
    for unreadable in ["", "five", "5.5", "5 x 5 x 5"]:
        g = q.grade(unreadable)
        assert not g.correct and not g.readable and "5 x 5" in g.feedback, unreadable


@pytest.mark.parametrize("net, shape, wrong, hint", [
    ("c3,max2,c3", (1, 1, 12, 12), 6, "strides are not multiplied"),  # 1 + 2 + 1 + 2
    ("c3s2,c3s2", (1, 1, 12, 12), 5, "strides are not multiplied"),  # 1 + 2 + 2
    ("c3d1,c3d2,c3d4", (1, 1, 20, 20), 7, "dilation is left out"),  # 1 + 2 + 2 + 2
    ("c3,max2,c3", (1, 1, 12, 12), 5, "pooling layers are left out"),  # c3,c3: 1 + 2 + 2
    ("c3s2,c3s2", (1, 1, 12, 12), 13, "own stride"),  # 1 + 2*2 + 2*2*2
    ("c3,relu,c3", (1, 1, 12, 12), 6, "kernel sizes do not add up"),  # 3 + 3
])
def test_receptive_field_slips_get_their_hint(net, shape, wrong, hint):
    q = receptive_field_question(NetSpec.create(net, shape), 0)
    for typed in (str(wrong), f"{wrong} x {wrong}"):
        g = q.grade(typed)
        assert not g.correct and g.readable and hint in g.feedback, typed
    assert "(" not in q.grade("99").feedback.split("is ")[-1]  # a plain wrong answer gets no hint


def test_make_question_rejects_a_conv_spec_for_the_receptive_field():
    with pytest.raises(ValueError, match="spec: the receptive_field question is about a NetSpec, got a ConvSpec"):
        make_question("receptive_field", ConvSpec.create(6, 6, 3))
    with pytest.raises(ValueError, match="spec: the output_size question is about a ConvSpec, got a NetSpec"):
        make_question("output_size", net_spec("c3"))
