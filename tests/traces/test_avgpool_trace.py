"""The average-pooling trace: its numbers are the engine's (and hand-computed ones), its captions name the divisor,
its divisor panel is right at the borders, sampling keeps the accumulation exact, overlaps accumulate."""
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from convviz.geometry import crop_padding
from convviz.pool import avg_pool2d, avg_pool2d_backward, pool_spec
from convviz.traces.pooling import avgpool_trace


def final_dx(tr, spec):
    """The dx panel as the last kept step shows it, without the padding border."""
    return crop_padding(tr.values_at(len(tr.steps) - 1, "dx"), spec)


def test_panels_and_final_dx_equal_the_engine_on_a_hand_case():
    # a 2x2 input of ones, kernel 2, stride 1, padding 1 (3x3 output), dout all ones.
    # count_include_pad=True: every cell lies in 4 windows each giving 1/4 -> dx = 1 everywhere.
    # count_include_pad=False: divisors [[1, 2, 1], [2, 4, 2], [1, 2, 1]]; cell (0, 0) gets 1 + 1/2 + 1/2 + 1/4 = 2.25,
    # every cell alike by symmetry.
    x = np.ones((1, 1, 2, 2))
    spec = pool_spec(x.shape, 2, 1, 1)
    dout = np.ones(spec.output_shape)
    for cip, want_dx, want_div, want_y in (
        (True, np.ones((2, 2)), np.full((3, 3), 4), [[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]]),
        (False, np.full((2, 2), 2.25), [[1, 2, 1], [2, 4, 2], [1, 2, 1]], np.ones((3, 3))),
    ):
        tr = avgpool_trace(x, dout, spec, count_include_pad=cip)
        assert tr.stage == "avgpool"
        assert [p.name for p in tr.panels] == ["x", "y", "dout", "dx", "divisor"]
        assert tr.panel("divisor").kind == "count" and tr.panel("dx").kind == "grad"
        np.testing.assert_array_equal(final_dx(tr, spec), want_dx)
        np.testing.assert_array_equal(final_dx(tr, spec), avg_pool2d_backward(dout, x, 2, 1, 1, cip)[0, 0])
        np.testing.assert_array_equal(tr.panel("divisor").values, want_div)
        np.testing.assert_array_equal(tr.panel("y").values, want_y)
        # the padded x panel shows padding as 0 and says whether it counts
        np.testing.assert_array_equal(tr.panel("x").values, np.pad(np.ones((2, 2)), 1))
        assert ("not counted" in tr.panel("x").title) == (not cip)
        # padding cells never receive gradient
        assert not tr.values_at(len(tr.steps) - 1, "dx")[spec.padding_mask()].any()
        assert all(c.ok for c in tr.checks), [c.text for c in tr.checks]


def test_the_checks_can_fail_and_say_which_identity_they_test():
    x = np.ones((1, 1, 2, 2))
    spec = pool_spec(x.shape, 2, 1, 1)
    tr = avgpool_trace(x, np.ones(spec.output_shape), spec, count_include_pad=True)
    # sum(dx) = 4, sum(dout) = 9: with padding counted, plain conservation would be off by the padding's share, 5
    assert "padding's share" in tr.checks[1].label
    assert any("= 5" in note for note in tr.notes)
    tr = avgpool_trace(x, np.ones(spec.output_shape), spec, count_include_pad=False)
    assert tr.checks[1].label.startswith("gradient is conserved")


def test_every_caption_names_the_divisor_and_why():
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    spec = pool_spec(x.shape, 3, 2, 1)  # windows start at input rows/cols -1, 1, 3: 2, 3, 2 real rows/cols
    dout = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    real = np.array([[4, 6, 4], [6, 9, 6], [4, 6, 4]])  # real cells per window, counted by hand
    tr = avgpool_trace(x, dout, spec, count_include_pad=False)
    for s in tr.steps:
        i, j = s.key
        div = real[i, j]
        assert re.search(rf"divisor = (3\*3 = )?{div}\b", s.caption)
        assert f"dout[{i}, {j}] / {div}" in s.caption
        if div < 9:
            assert f"{9 - div} padding cell(s) do not" in s.caption
        else:
            assert "no padding in this window" in s.caption
    # window (0, 0) holds input rows 0..1, cols 0..1: 0 + 1 + 5 + 6 = 12, / 4 = 3
    assert "mean = sum / divisor = 12 / 4 = 3" in tr.steps[0].caption
    tr = avgpool_trace(x, dout, spec, count_include_pad=True)
    # the same window with padding counted: 12 / 9; its 5 padding cells count, their share 5 x 1/9 is lost
    assert "12 / 9" in tr.steps[0].caption and "5 padding cell(s) count in the divisor" in tr.steps[0].caption
    assert "share (5 x 0.1111) is lost" in tr.steps[0].caption
    for s in tr.steps:
        assert "divisor = 3*3 = 9" in s.caption


def test_divisor_panel_at_the_borders_of_a_non_square_layout():
    # 4x7 input, kernel (2, 3), stride (2, 2), padding (1, 1). Rows: windows start at input rows -1, 1, (3 needs
    # rows 3..4, 4 is padding) -> OH = (4 + 2 - 2) // 2 + 1 = 3, real rows 1, 2, 1.
    # Columns: OW = (7 + 2 - 3) // 2 + 1 = 4, windows start at -1, 1, 3, 5: real columns 2, 3, 3, 2.
    x = np.zeros((1, 1, 4, 7))
    spec = pool_spec(x.shape, (2, 3), 2, 1)
    tr = avgpool_trace(x, np.zeros(spec.output_shape), spec, count_include_pad=False)
    np.testing.assert_array_equal(tr.panel("divisor").values, np.outer([1, 2, 1], [2, 3, 3, 2]))
    tr = avgpool_trace(x, np.zeros(spec.output_shape), spec, count_include_pad=True)
    np.testing.assert_array_equal(tr.panel("divisor").values, np.full((3, 4), 6))
    # a border window marks its padding cells; an inner one (1, 1) has none
    s00 = tr.steps[tr.step_for_key((0, 0))]
    pad = next(h for h in s00.highlights if h.role == "padding").mask
    assert pad.sum() == 4  # rows -1..0 x cols -1..1: 6 cells, 1 x 2 of them real
    assert not pad[~spec.padding_mask()].any()
    s11 = tr.steps[tr.step_for_key((1, 1))]
    assert not any(h.role == "padding" for h in s11.highlights)


def test_sampling_keeps_first_last_and_exact_accumulation():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 1, 12, 12))
    spec = pool_spec(x.shape, 3, 1, 1)  # 12 x 12 = 144 windows
    dout = rng.standard_normal(spec.output_shape)
    full = avgpool_trace(x, dout, spec)
    small = avgpool_trace(x, dout, spec, max_steps=10)
    assert full.total_steps == small.total_steps == 144
    assert len(full.steps) == 144 and len(small.steps) == 10
    assert small.steps[0].key == (0, 0) and small.steps[-1].key == (11, 11)
    by_key = {s.key: s for s in full.steps}
    for s in small.steps:
        np.testing.assert_array_equal(s.values["dx"], by_key[s.key].values["dx"])
        assert s.caption == by_key[s.key].caption
    np.testing.assert_allclose(final_dx(small, spec), avg_pool2d_backward(dout, x, 3, 1, 1)[0, 0], atol=1e-12)
    assert all(c.ok for c in small.checks)


def test_overlapping_windows_accumulate_and_say_so():
    # 1x3 input [0, 3, 6], kernel 1x2, stride 1: dout [2, 4] -> shares 1 and 2; the middle cell gets 1, then 1 + 2 = 3
    x = np.array([[[[0.0, 3.0, 6.0]]]])
    spec = pool_spec(x.shape, (1, 2), 1)
    tr = avgpool_trace(x, np.array([[[[2.0, 4.0]]]]), spec)
    first, second = tr.steps
    np.testing.assert_array_equal(first.values["dx"], [[1.0, 1.0, 0.0]])
    np.testing.assert_array_equal(second.values["dx"], [[1.0, 3.0, 2.0]])
    assert "already held" not in first.caption
    assert "1 cell(s) already held gradient from an overlapping window" in second.caption
    assert "input (0, 1): 1 + 2 = 3" in second.caption
    assert "4.5" in second.caption  # (3 + 6) / 2


def test_channel_and_batch_are_chosen():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 5, 4))
    spec = pool_spec(x.shape, 2, 1, 1)
    dout = rng.standard_normal(spec.output_shape)
    tr = avgpool_trace(x, dout, spec, n=1, c=2, count_include_pad=False)
    np.testing.assert_allclose(tr.panel("y").values, avg_pool2d(x, 2, 1, 1, False)[1, 2], atol=1e-12)
    np.testing.assert_array_equal(tr.panel("dout").values, dout[1, 2])
    np.testing.assert_allclose(final_dx(tr, spec), avg_pool2d_backward(dout, x, 2, 1, 1, False)[1, 2], atol=1e-12)


def test_refuses_a_dilated_spec():
    spec = pool_spec((1, 1, 6, 6), 2, 1, 0, dilation=2)
    with pytest.raises(ValueError, match="dilation"):
        avgpool_trace(np.zeros((1, 1, 6, 6)), np.zeros(spec.output_shape), spec)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(h=st.integers(1, 8), w=st.integers(1, 8), kh=st.integers(1, 4), kw=st.integers(1, 4), sh=st.integers(1, 3),
       sw=st.integers(1, 3), data=st.data(), cip=st.booleans(), budget=st.sampled_from([None, 1, 2, 5]),
       seed=st.integers(0, 2**31))
def test_live_checks_pass_and_numbers_are_the_engines_everywhere(h, w, kh, kw, sh, sw, data, cip, budget, seed):
    ph, pw = data.draw(st.integers(0, kh // 2)), data.draw(st.integers(0, kw // 2))
    assume(h + 2 * ph >= kh and w + 2 * pw >= kw)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, 2, h, w))
    spec = pool_spec(x.shape, (kh, kw), (sh, sw), (ph, pw))
    dout = rng.standard_normal(spec.output_shape)
    tr = avgpool_trace(x, dout, spec, c=1, max_steps=budget, count_include_pad=cip)
    assert all(c.ok for c in tr.checks), [c.text for c in tr.checks]
    assert tr.total_steps == spec.oh * spec.ow and tr.steps
    np.testing.assert_allclose(tr.panel("y").values, avg_pool2d(x, (kh, kw), (sh, sw), (ph, pw), cip)[0, 1], atol=1e-12)
    np.testing.assert_allclose(final_dx(tr, spec), avg_pool2d_backward(dout, x, (kh, kw), (sh, sw), (ph, pw), cip)[0, 1],
                               atol=1e-12)
    for s in tr.steps:
        assert re.search(r"divisor = (\d+\*\d+ = )?\d+", s.caption)
        assert not s.values["dx"][spec.padding_mask()].any()
