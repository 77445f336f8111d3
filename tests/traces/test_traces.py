"""Every trace builder over the whole geometry space: its live checks pass, its data is immutable and
consistent, and the numbers it shows are the engine's."""
import re

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
    # H=8, K=3, S=2: (8 - 3) mod 2 = 1 row no window reaches (docs/teaching.md, Shapes and edge cases)
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


@pytest.mark.parametrize("kw", [
    dict(h=6, w=6, kernel_size=3),  # every factor 1: the tap rows given the column stride
    dict(h=5, w=6, kernel_size=2, stride=2, padding=(1, 0, 2, 1)),  # SH = 2: the window-row stride left at sH
    dict(h=7, w=7, kernel_size=2, stride=(1, 2)),  # SW = 2 only
    dict(h=7, w=7, kernel_size=2, dilation=2),  # DH = 2 only
])
def test_strided_wrong_strides_step_reads_what_as_strided_reads(kw):
    """The red cells are the cells NumPy's as_strided really reads with the step's wrong strides, and those differ
    from the window's own (at stride 1 the old step compared sH with SH*sH, the same number, and showed nothing)."""
    from numpy.lib.stride_tricks import as_strided

    spec = cv.ConvSpec.create(**kw)
    x = np.arange(spec.h * spec.w, dtype=np.float64).reshape(1, 1, spec.h, spec.w) + 1
    xpad = np.ascontiguousarray(np.pad(x, ((0, 0), (0, 0), (spec.top, spec.bottom), (spec.left, spec.right))))
    _, _, sH, sW = xpad.strides
    right = [spec.sh * sH, spec.sw * sW, spec.dh * sH, spec.dw * sW]
    base = [sH, sW, sH, sW]
    k = next((a for a in range(4) if right[a] != base[a]), None)
    wrong = list(right)
    if k is None:
        wrong[2] = sW  # every factor is 1: the tap rows get the column stride
    else:
        wrong[k] = base[k]
    i_w, j_w = spec.oh - 1, spec.ow - 1
    start = (i_w * wrong[0] + j_w * wrong[1]) // xpad.itemsize
    view = as_strided(xpad[0, 0].ravel()[start:], shape=(spec.kh, spec.kw), strides=(wrong[2], wrong[3]))
    step = T.strided_trace(x, spec).steps[-1]
    mask = next(h for h in step.highlights if h.role == "wrong").mask
    assert sorted(xpad[0, 0][mask].tolist()) == sorted(set(view.ravel().tolist()))
    own = spec.window_mask(i_w, j_w)
    assert (mask != own).any()
    stride_text = re.search(r"stride (\d+) bytes instead of \w+\*\w+ = (\d+)", step.caption)
    assert stride_text and stride_text.group(1) != stride_text.group(2), step.caption


def test_a_click_on_the_strided_input_picks_the_first_window_that_reads_the_cell():
    """Clicked input cell (labels as the figure numbers them, padding negative) -> the first window, in row-major
    order, one of whose taps is that cell; the label used to be taken for a window number, right only at stride 1
    without padding."""
    spec = cv.ConvSpec.create(5, 6, 2, 2, (1, 0, 2, 1))
    x = np.arange(30, dtype=np.float64).reshape(1, 1, 5, 6)
    tr = T.strided_trace(x, spec)
    for r in range(-spec.top, spec.h + spec.bottom):
        for c in range(-spec.left, spec.w + spec.right):
            readers = [(i, j) for i in range(spec.oh) for j in range(spec.ow)
                       if (r + spec.top - i * spec.sh) in range(0, spec.ekh, spec.dh)
                       and (c + spec.left - j * spec.sw) in range(0, spec.ekw, spec.dw)]
            t = tr.step_for_click("xpad", (r, c))
            if readers:
                assert t is not None and tr.steps[t].key == readers[0], (r, c)
            else:
                assert t is None, (r, c)
    forward = T.forward_trace(x, np.ones((1, 1, 2, 2)), np.zeros(1), spec)  # its clicks name output cells: unchanged
    assert forward.steps[forward.step_for_click("y", (1, 2))].key == (1, 2)
