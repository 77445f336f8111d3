"""Every trace builder over the whole geometry space: its live checks pass, its data is immutable and
consistent, and the numbers it shows are the engine's."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convviz as cv
from convviz import traces as T
from convviz.data import make_bias, make_dout, make_input, make_kernel
from convviz.pool import pool_spec
from convviz.traces.base import fmt

PADDINGS = st.one_of(
    st.sampled_from(["valid", "same", "full"]),
    st.integers(0, 2),
    st.tuples(st.integers(0, 2), st.integers(0, 2)),
    st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 2), st.integers(0, 2)),
)


@st.composite
def specs(draw):
    """A valid ConvSpec anywhere in the teaching space (non-square and even kernels, uneven strides...)."""
    while True:
        try:
            return cv.ConvSpec.create(
                draw(st.integers(1, 9)), draw(st.integers(1, 9)), (draw(st.integers(1, 4)), draw(st.integers(1, 4))),
                (draw(st.integers(1, 3)), draw(st.integers(1, 3))), draw(PADDINGS),
                (draw(st.integers(1, 2)), draw(st.integers(1, 2))),
                n=draw(st.integers(1, 2)), c=draw(st.integers(1, 2)), f=draw(st.integers(1, 2)))
        except ValueError:
            continue


def arrays(spec, seed=0, preset="random"):
    return (make_input(spec, preset, seed), make_kernel(spec, "random", seed), make_bias(spec, "random", seed),
            make_dout(spec.output_shape, seed))


def all_traces(spec, seed=0, budget=None):
    x, w, b, d = arrays(spec, seed)
    n, f, c = spec.n - 1, spec.f - 1, spec.c - 1
    out = [
        T.shapes_trace(spec),
        T.forward_trace(x, w, b, spec, n=n, f=f, max_steps=budget),
        T.im2col_index_trace(spec),
        T.im2col_gather_trace(x, spec, n=n, max_steps=budget),
        T.im2col_product_trace(x, w, b, spec, n=n, max_steps=budget),
        T.strided_trace(x, spec, n=n, max_steps=budget),
        T.transposed_trace(x, w, d, spec, n=n, c=c, max_steps=budget),
        T.col2im_trace(x, w, d, spec, n=n, max_steps=budget),
        T.weight_grad_trace(x, w, d, spec, n=n, f=f),
    ]
    try:
        ps = pool_spec(x.shape, spec.kernel_size, spec.stride, 0, spec.dilation)
        out.append(T.maxpool_trace(x, make_dout(ps.output_shape, seed), ps, n=n, c=c, max_steps=budget))
    except ValueError:
        pass
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs(), seed=st.integers(0, 50))
def test_every_live_check_passes_everywhere(spec, seed):
    for tr in all_traces(spec, seed):
        assert tr.steps, tr.stage
        for check in tr.checks:
            assert check.ok, f"{tr.stage}: {check.text} for {spec}"


@settings(max_examples=25, deadline=None)
@given(spec=specs())
def test_traces_are_immutable_and_masks_fit(spec):
    for tr in all_traces(spec):
        for p in tr.panels:
            assert not p.values.flags.writeable
            with pytest.raises(ValueError):
                p.values[(0,) * p.values.ndim] = 1
        for s in tr.steps:
            for h in s.highlights:
                assert not h.mask.flags.writeable
            for v in s.values.values():
                assert not v.flags.writeable
            with pytest.raises(TypeError):
                s.values["x"] = np.zeros(1)  # the mapping itself is read-only


def test_forward_trace_numbers_are_the_engines():
    spec = cv.ConvSpec.create(7, 6, (3, 2), (2, 3), (1, 0, 2, 1), (1, 2), n=2, c=2, f=3)
    x, w, b, _ = arrays(spec, 3)
    tr = T.forward_trace(x, w, b, spec, n=1, f=2)
    y = cv.conv2d(x, w, b, (2, 3), (1, 0, 2, 1), (1, 2), method="loops")
    np.testing.assert_array_equal(tr.panel("y").values, y[1, 2])
    assert len(tr.steps) == spec.oh * spec.ow
    for t, s in enumerate(tr.steps):
        i, j = divmod(t, spec.ow)
        assert s.key == (i, j)
        # the caption carries the output value, and the products sum to it minus the bias
        assert f") = {fmt(y[1, 2, i, j])}. The window" in s.caption
        np.testing.assert_allclose(s.values["products"].sum() + b[2], y[1, 2, i, j])
        read = next(h for h in s.highlights if h.panel == "xpad").mask
        assert read.sum() == spec.kh * spec.kw  # every tap of the window, and nothing else


def test_uncovered_remainder_is_highlighted_on_shapes():
    # H=8, K=3, S=2: (8 - 3) mod 2 = 1 row no window reaches (pedagogy.md section 1)
    spec = cv.ConvSpec.create(8, 6, 3, (2, 1))
    tr = T.shapes_trace(spec)
    last = tr.steps[-1]
    mask = next(h for h in last.highlights if h.role == "uncovered").mask
    assert mask[7].all() and not mask[:7].any()
    assert "mod 2 = 1" in last.caption


def test_rows_the_stride_steps_past_are_flagged_and_explained_on_shapes():
    # a 1 x 1 kernel at stride 2 on 6 x 6: taps read rows and columns 0, 2, 4; 5 is the remainder, 1 and 3 are skipped
    spec = cv.ConvSpec.create(6, 6, 1, 2)
    last = T.shapes_trace(spec).steps[-1]
    mask = next(h for h in last.highlights if h.role == "uncovered").mask
    read = np.zeros(6, dtype=bool)
    read[[0, 2, 4]] = True
    np.testing.assert_array_equal(mask, ~(read[:, None] & read[None, :]))
    assert "No tap lands on 2 other row(s) and 2 other column(s)" in last.caption
    assert "27 input cell(s) are never read" in last.caption  # 36 cells, 3 x 3 of them read


def test_col2im_trace_accumulates_and_shows_the_assignment_bug():
    spec = cv.ConvSpec.create(5, 5, 3, 1)  # stride < kernel: windows overlap
    x, w, b, d = arrays(spec, 1)
    tr = T.col2im_trace(x, w, d, spec)
    dx, _, _ = cv.conv2d_backward(d, x, w, 1, 0, 1)
    np.testing.assert_allclose(tr.panel("dx").values, dx[0])
    final_acc = tr.values_at(len(tr.steps) - 1, "acc")
    np.testing.assert_allclose(final_acc, dx[0])  # no padding here, so the accumulator is dx
    count = tr.values_at(len(tr.steps) - 1, "count")
    np.testing.assert_array_equal(count, spec.coverage())
    assert count.max() == 9  # the centre cell of a 5x5 input is read by all 3x3 windows
    assert np.abs(tr.panel("wrong").values - dx[0]).max() > 0  # assignment loses overlapping gradient


def test_step_budget_keeps_first_last_and_exact_accumulation():
    spec = cv.ConvSpec.create(12, 12, 3, 1, n=1)
    x, w, b, d = arrays(spec, 2)
    full = T.col2im_trace(x, w, d, spec)
    small = T.col2im_trace(x, w, d, spec, max_steps=10)
    assert small.total_steps == full.total_steps and len(small.steps) < len(full.steps)
    by_title = {s.title: s for s in full.steps}
    for s in small.steps:
        if "acc" in s.values:
            np.testing.assert_array_equal(s.values["acc"], by_title[s.title].values["acc"])
    assert T.pick_steps(100, 10)[0] == 0 and T.pick_steps(100, 10)[-1] == 99 and len(T.pick_steps(100, 10)) == 10


def test_maxpool_trace_ties_go_to_first_maximum():
    x = np.ones((1, 1, 4, 4))
    ps = pool_spec(x.shape, 2, 1)
    tr = T.maxpool_trace(x, np.ones(ps.output_shape), ps)
    s0 = tr.steps[0]
    focus = next(h for h in s0.highlights if h.role == "focus").mask
    assert focus[0, 0] and focus.sum() == 1  # four ones tie: the first in row-major order wins
    assert "4 cells tie" in s0.caption
    dx = tr.values_at(len(tr.steps) - 1, "dx")
    np.testing.assert_array_equal(dx, cv.max_pool2d_backward(np.ones(ps.output_shape), x, 2, 1)[0, 0])


def test_gradcheck_trace_passes_for_every_method_and_samples_when_asked():
    spec = cv.ConvSpec.create(6, 5, (2, 3), 2, (1, 0, 0, 1), n=2, c=2, f=2)
    x, w, b, d = arrays(spec, 4)
    tr = T.gradcheck_trace(x, w, b, d, spec, max_entries=20)
    assert all(c.ok for c in tr.checks)
    assert [r[-1] for r in tr.table[1:]] == ["passes"] * 3
    assert any("20 of" in note for note in tr.notes)


MASK_SHAPES = st.one_of(st.tuples(st.integers(1, 40), st.integers(1, 40)),
                        st.tuples(st.integers(1, 4), st.integers(1, 12), st.integers(1, 12)))


@settings(max_examples=200, deadline=None)
@given(shape=MASK_SHAPES, density=st.sampled_from([0.0, 0.01, 0.1, 0.5, 0.9, 1.0]), seed=st.integers(0, 2**16))
def test_a_highlight_gives_back_exactly_the_mask_it_was_given(shape, density, seed):
    """Masks are stored compactly (indices or packed bits, whichever is smaller); what comes out is the mask put in."""
    import pickle

    from convviz.traces.base import Highlight

    given_mask = np.random.default_rng(seed).random(shape) < density
    h = Highlight("p", "read", given_mask)
    out = h.mask
    assert out.dtype == bool and out.shape == given_mask.shape
    np.testing.assert_array_equal(out, given_mask)
    assert not out.flags.writeable
    assert h.count == int(given_mask.sum()) and h.full == bool(given_mask.all())
    given_mask[...] = ~given_mask  # the caller's array stays the caller's: the highlight is unchanged
    np.testing.assert_array_equal(h.mask, ~given_mask)
    again = pickle.loads(pickle.dumps(h))
    assert again == h and again.panel == "p" and again.role == "read"
    with pytest.raises(AttributeError):
        h.role = "write"


def test_a_highlight_of_a_few_cells_of_a_large_grid_stays_small():
    """One column of the largest im2col matrix (196 x 1024): 196 marked cells, not 200,704 booleans."""
    from convviz.traces.base import Highlight

    column = np.zeros((196, 1024), bool)
    column[:, 517] = True
    h = Highlight("cols", "read", column)
    assert h.nbytes == 196 * 4
    everything = Highlight("cols", "focus", np.ones((196, 1024), bool))
    assert everything.full and everything.nbytes == 196 * 1024 // 8
    with pytest.raises(ValueError):
        Highlight("cols", "glow", column)
