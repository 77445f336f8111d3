"""The transposed-convolution traces: their final numbers are the engine's, the overlap count is a brute-force count,
titles keep the transposed layer's input x' and output y' apart, and sampling keeps the numbers exact."""
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from convviz import conv_transpose2d
from convviz.traces.base import fmt
from convviz.traces.transposed_conv import tconv_direct_trace, tconv_gradient_trace, tconv_scatter_trace
from convviz.transposed import TransposedSpec

BUILDERS = (tconv_scatter_trace, tconv_direct_trace, tconv_gradient_trace)
OUTPUT_PANEL = {"tconv_scatter": "y", "tconv_direct": "y", "tconv_gradient": "dx"}
INPUT_PANEL = {"tconv_scatter": "x", "tconv_direct": "x", "tconv_gradient": "dout"}


def arrays(spec, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.integers(-3, 4, spec.input_shape).astype(float), rng.integers(-2, 3, spec.weight_shape).astype(float))


def pair_engine(x, w, spec, n, cin, cout):
    return conv_transpose2d(x[n : n + 1, cin : cin + 1], w[cin : cin + 1, cout : cout + 1], None, spec.stride,
                            spec.padding, spec.output_padding, spec.dilation)[0, 0]


def brute_full_count(spec):
    """Stamps reaching each cell of the full (uncropped) grid, by the definition."""
    count = np.zeros((spec.full_h, spec.full_w), dtype=int)
    for i in range(spec.h):
        for j in range(spec.w):
            for u in range(spec.kh):
                for v in range(spec.kw):
                    count[i * spec.sh + u * spec.dh, j * spec.sw + v * spec.dw] += 1
    return count


@st.composite
def specs(draw):
    h, w = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    p = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    op = (draw(st.integers(0, max(s[0], d[0]) - 1)), draw(st.integers(0, max(s[1], d[1]) - 1)))
    try:
        return TransposedSpec.create(h, w, k, s, p, op, d, n=draw(st.integers(1, 2)), cin=draw(st.integers(1, 2)),
                                     cout=draw(st.integers(1, 2)))
    except ValueError:
        assume(False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(spec=specs(), seed=st.integers(0, 50), budget=st.sampled_from([None, 2, 5]))
def test_every_check_passes_and_final_numbers_are_the_engines(spec, seed, budget):
    x, w = arrays(spec, seed)
    n, cin, cout = spec.n - 1, spec.cin - 1, spec.cout - 1
    ref = pair_engine(x, w, spec, n, cin, cout)
    for build in BUILDERS:
        tr = build(x, w, spec, n=n, cin=cin, cout=cout, max_steps=budget)
        assert tr.steps and tr.checks
        for check in tr.checks:
            assert check.ok, f"{tr.stage}: {check.text} for {spec}"
        np.testing.assert_allclose(tr.panel(OUTPUT_PANEL[tr.stage]).values, ref, atol=1e-12)
        shown = tr.panel(INPUT_PANEL[tr.stage]).values  # (H, W), or (1, H + a//S, W + a//S) as the forward conv's dout
        np.testing.assert_array_equal(shown.reshape(shown.shape[-2:])[: spec.h, : spec.w], x[n, cin])
        assert not shown.reshape(shown.shape[-2:])[spec.h :].any() and not shown.reshape(shown.shape[-2:])[:, spec.w :].any()
        for p in tr.panels:
            assert not p.values.flags.writeable
    scatter = tconv_scatter_trace(x, w, spec, n=n, cin=cin, cout=cout, max_steps=budget)
    last = len(scatter.steps) - 1
    np.testing.assert_allclose(spec.crop(scatter.values_at(last, "full")), ref, atol=1e-12)
    np.testing.assert_array_equal(scatter.values_at(last, "count"), brute_full_count(spec))


def test_scatter_trace_walks_every_input_cell_with_the_numbers():
    spec = TransposedSpec.create(3, 3, 3, 2, 1, 1)  # the guide's relationship 14: i' = 3 -> o' = 6
    x = np.arange(9.0).reshape(1, 1, 3, 3) - 4
    w = np.arange(9.0).reshape(1, 1, 3, 3) % 4 - 1
    tr = tconv_scatter_trace(x, w, spec)
    assert tr.stage == "tconv_scatter" and tr.total_steps == 9 + 3 == len(tr.steps)
    cells = [s for s in tr.steps if s.key]
    assert [s.key for s in cells] == [(i, j) for i in range(3) for j in range(3)]
    s = cells[7]  # x'[2, 1]
    assert s.caption.startswith(f"x'[2, 1] = {fmt(x[0, 0, 2, 1])} -> {fmt(x[0, 0, 2, 1])} x kernel, top-left tap at full-grid "
                                "(2*2, 1*2) = (4, 2): rows 3..5, columns 1..3")
    assert "already held a value from earlier stamps" in s.caption
    np.testing.assert_array_equal(s.values["stamp"][4:7, 2:5], x[0, 0, 2, 1] * w[0, 0])
    assert "None of its cells held a value yet." in cells[0].caption
    count = tr.values_at(len(tr.steps) - 1, "count")
    np.testing.assert_array_equal(count, brute_full_count(spec))
    assert count.max() == 4 and count.shape == (8, 8)
    assert "K = 3 is not a multiple of S = 2" in tr.steps[-1].caption and "checkerboard" in tr.steps[-1].caption
    crop_step = tr.steps[-2]
    assert "its output y' is 6 x 6" in crop_step.caption and "output padding were appended" in crop_step.caption
    assert tr.panel("count").kind == "count"
    np.testing.assert_array_equal(tr.panel("full").padding, spec.crop_mask())


def test_no_checkerboard_when_k_is_a_multiple_of_s():
    spec = TransposedSpec.create(4, 4, 4, 2)
    tr = tconv_scatter_trace(*arrays(spec), spec)
    assert "the same number of stamps" in tr.steps[-1].caption and "multiple of S" in tr.steps[-1].caption


def test_direct_trace_shows_inserted_zeros_padding_and_the_flip():
    spec = TransposedSpec.create(2, 2, 3, 2)  # relationship 12: zeros inserted, padded by k - 1 = 2, o' = 5
    x, w = arrays(spec, 2)
    tr = tconv_direct_trace(x, w, spec)
    assert tr.stage == "tconv_direct"
    z = tr.panel("z")
    assert z.values.shape == (7, 7) and z.padding.sum() == 49 - 9 and (z.row_start, z.col_start) == (-2, -2)
    insert, pad, rotate = tr.steps[:3]
    focus = next(h for h in insert.highlights if h.role == "focus").mask
    assert focus.sum() == 9 - 4  # the inserted zeros of the 3 x 3 dilated input
    assert "D(K-1)-p = 1*(3-1)-0 = 2" in pad.caption
    assert "rotated 180°" in tr.panel("wrot").title and "backwards" in rotate.caption and "i*S + u*D - p" in rotate.caption
    np.testing.assert_array_equal(tr.panel("wrot").values, w[0, 0, ::-1, ::-1])
    y = pair_engine(x, w, spec, 0, 0, 0)
    for s in tr.steps[3:]:
        r, q = s.key
        assert s.values["products"].sum() == pytest.approx(y[r, q])
        assert s.caption.startswith(f"y'[{r}, {q}] = sum of window x rotated kernel")


def test_direct_trace_explains_negative_pads():
    spec = TransposedSpec.create(4, 4, 2, 2, 2)  # D(K-1) - p = -1
    tr = tconv_direct_trace(*arrays(spec), spec)
    assert "the row pad is negative" in tr.steps[1].caption and "cropped from the zero-inserted input" in tr.steps[1].caption
    assert "12 cell(s) of x' are cropped" in tr.steps[1].caption  # x' rows 0, 3 and columns 0, 3: 16 - 2*2
    assert all(c.ok for c in tr.checks)


def test_gradient_trace_is_the_forward_convs_input_gradient():
    spec = TransposedSpec.create(3, 3, 3, 2, 1, 1, n=2, cin=2, cout=3)
    x, w = arrays(spec, 5)
    tr = tconv_gradient_trace(x, w, spec, n=1, cin=1, cout=2, max_steps=6)
    assert tr.stage == "tconv_gradient"
    first = tr.steps[0]
    assert "A forward convolution with input 6 x 6" in first.caption and "output 3 x 3" in first.caption
    assert "remainder rows (o' + 2p - EK) mod S = 1" in first.caption
    np.testing.assert_allclose(tr.panel("dout").values[0], x[1, 1])
    np.testing.assert_allclose(tr.panel("dx").values, pair_engine(x, w, spec, 1, 1, 2), atol=1e-12)
    assert tr.panel("wflip").title == "w[1, 2] rotated 180°"
    assert any("conv_transpose2d" in c.label for c in tr.checks) and all(c.ok for c in tr.checks)


def test_gradient_trace_when_output_padding_exceeds_the_stride():
    spec = TransposedSpec.create(3, 3, 2, 1, 0, 1, 2)  # S=1 <= a=1 < D=2: dout gets a zero row and column
    x, w = arrays(spec, 6)
    tr = tconv_gradient_trace(x, w, spec)
    assert tr.panel("dout").values.shape == (1, 4, 4) and "dout gets zeros there" in tr.steps[0].caption
    assert all(c.ok for c in tr.checks)


@pytest.mark.parametrize("build", BUILDERS)
def test_titles_never_confuse_the_layers_input_and_output(build):
    spec = TransposedSpec.create(3, 4, 3, 2, 1, (1, 0), cin=2)
    tr = build(*arrays(spec), spec, cin=1)
    inp, out = tr.panel(INPUT_PANEL[tr.stage]).title, tr.panel(OUTPUT_PANEL[tr.stage]).title
    assert inp.startswith("input x'") and "i' = 3 x 4" in inp and "output" not in inp
    assert out.startswith("output y'") and "o' = 6 x 7" in out and "input x'" not in out
    assert "from x' channel 1" in out  # CIN = 2: the figure shows one channel's part of y'
    for p in tr.panels:
        if p.name not in (INPUT_PANEL[tr.stage], OUTPUT_PANEL[tr.stage]):
            assert "input x'" not in p.title or "as dout" in p.title or "x' with" in p.title


@pytest.mark.parametrize("build", BUILDERS)
def test_sampling_keeps_first_and_last_and_exact_numbers(build):
    spec = TransposedSpec.create(5, 5, 3, 2, 1)
    x, w = arrays(spec, 7)
    full = build(x, w, spec)
    sampled = build(x, w, spec, max_steps=4)
    assert sampled.total_steps == full.total_steps
    keyed = [s.key for s in sampled.steps if s.key]
    all_keys = [s.key for s in full.steps if s.key]
    assert len(keyed) == 4 and keyed[0] == all_keys[0] and keyed[-1] == all_keys[-1]
    for s in sampled.steps:
        if s.key:
            twin = full.steps[full.step_for_key(s.key)]
            assert s.caption == twin.caption
            for name, v in s.values.items():
                np.testing.assert_array_equal(v, twin.values[name])
