"""Average pooling against a loop reference written here from the definition, PyTorch (float64), finite differences
and hand-computed cases. torch is a hard test dependency: nothing here skips."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from convviz.geometry import ConvSpec
from convviz.pool import (
    avg_pool2d,
    avg_pool2d_backward,
    avg_pool2d_backward_spec,
    avg_pool2d_spec,
    avg_pool_divisors,
    global_avg_pool2d,
    global_avg_pool2d_backward,
    pool_spec,
)

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


# ---------------------------------------------------------------------------------------------------
# the reference: one window at a time, straight from the definition (nothing from convviz)
# ---------------------------------------------------------------------------------------------------
def ref_avg_pool(x, dout, kernel, stride, padding, count_include_pad):
    """(y, dx, divisors). Window (i, j) covers input rows i*SH - PH .. i*SH - PH + KH - 1 (likewise columns);
    cells outside the input are padding (value 0). y = sum / divisor; dx[cell] += dout / divisor for each real cell."""
    N, C, H, W = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    OH, OW = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
    y = np.zeros((N, C, OH, OW))
    dx = np.zeros((N, C, H, W))
    div = np.zeros((OH, OW), dtype=int)
    for i in range(OH):
        for j in range(OW):
            cells = [(i * sh - ph + u, j * sw - pw + v) for u in range(kh) for v in range(kw)]
            real = [(r, q) for r, q in cells if 0 <= r < H and 0 <= q < W]
            div[i, j] = kh * kw if count_include_pad else len(real)
            for n in range(N):
                for c in range(C):
                    y[n, c, i, j] = sum(x[n, c, r, q] for r, q in real) / div[i, j]
                    if dout is not None:
                        for r, q in real:
                            dx[n, c, r, q] += dout[n, c, i, j] / div[i, j]
    return y, dx, div


def t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


@st.composite
def avg_cases(draw, max_hw=10):
    """(x, kernel, stride or None, padding, stride used): strides that do not divide, exceed the kernel, or are None."""
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, max_hw)), draw(st.integers(1, max_hw))
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = draw(st.one_of(st.none(), st.tuples(st.integers(1, 4), st.integers(1, 4))))
    p = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    assume(h + 2 * p[0] >= k[0] and w + 2 * p[1] >= k[1])
    x = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).standard_normal((n, c, h, w))
    return x, k, s, p, (k if s is None else s)


# ---------------------------------------------------------------------------------------------------
# properties over the parameter space
# ---------------------------------------------------------------------------------------------------
@settings(max_examples=150, **SETTINGS)
@given(avg_cases(), st.booleans(), st.integers(0, 2**31))
def test_matches_the_loop_reference(case, cip, seed):
    x, k, s, p, s_used = case
    y = avg_pool2d(x, k, s, p, cip)
    dout = np.random.default_rng(seed).standard_normal(y.shape)
    y_ref, dx_ref, div_ref = ref_avg_pool(x, dout, k, s_used, p, cip)
    np.testing.assert_allclose(y, y_ref, atol=1e-12)
    np.testing.assert_allclose(avg_pool2d_backward(dout, x, k, s, p, cip), dx_ref, atol=1e-12)
    spec = pool_spec(x.shape, k, s, p)
    np.testing.assert_array_equal(avg_pool_divisors(spec, cip), div_ref)


@settings(max_examples=120, **SETTINGS)
@given(avg_cases(), st.booleans(), st.integers(0, 2**31))
def test_forward_and_backward_match_torch(case, cip, seed):
    x, k, s, p, _ = case
    xt = t(x, True)
    y = F.avg_pool2d(xt, k, s, p, ceil_mode=False, count_include_pad=cip)
    dout = np.random.default_rng(seed).standard_normal(tuple(y.shape))
    y.backward(t(dout))
    np.testing.assert_allclose(avg_pool2d(x, k, s, p, cip), y.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(avg_pool2d_backward(dout, x, k, s, p, cip), xt.grad.numpy(), atol=1e-12)


@settings(max_examples=40, **SETTINGS)
@given(avg_cases(max_hw=6), st.booleans(), st.integers(0, 2**31))
def test_backward_matches_central_differences(case, cip, seed):
    """L = sum(avg_pool2d(x) * dout); dL/dx[e] ~ (L(x + h e) - L(x - h e)) / 2h for every entry e."""
    x, k, s, p, _ = case
    dout = np.random.default_rng(seed).standard_normal(avg_pool2d(x, k, s, p, cip).shape)
    h = 1e-6
    numeric = np.zeros_like(x)
    for e in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[e] += h
        xm[e] -= h
        numeric[e] = ((avg_pool2d(xp, k, s, p, cip) * dout).sum() - (avg_pool2d(xm, k, s, p, cip) * dout).sum()) / (2 * h)
    np.testing.assert_allclose(avg_pool2d_backward(dout, x, k, s, p, cip), numeric, atol=1e-7)


@settings(max_examples=60, **SETTINGS)
@given(avg_cases(), st.integers(0, 2**31))
def test_gradient_is_conserved_without_counted_padding(case, seed):
    """count_include_pad=False: every share lands on a real cell, so sum(dx) = sum(dout). True: the padding's share,
    dout * (padding cells) / (KH*KW) per window, is missing (counted here from the reference's real cells)."""
    x, k, s, p, s_used = case
    y = avg_pool2d(x, k, s, p)
    dout = np.random.default_rng(seed).standard_normal(y.shape)
    assert avg_pool2d_backward(dout, x, k, s, p, False).sum() == pytest.approx(dout.sum(), abs=1e-9)
    _, _, real = ref_avg_pool(x, None, k, s_used, p, False)  # real cells per window
    lost = (dout * (k[0] * k[1] - real) / (k[0] * k[1])).sum()
    assert avg_pool2d_backward(dout, x, k, s, p, True).sum() == pytest.approx(dout.sum() - lost, abs=1e-9)


@settings(max_examples=40, **SETTINGS)
@given(avg_cases(), st.booleans(), st.integers(0, 2**31))
def test_spec_variants_equal_the_public_functions(case, cip, seed):
    x, k, s, p, _ = case
    spec = pool_spec(x.shape, k, s, p)
    y = avg_pool2d(x, k, s, p, cip)
    dout = np.random.default_rng(seed).standard_normal(y.shape)
    np.testing.assert_array_equal(avg_pool2d_spec(x, spec, cip), y)
    np.testing.assert_array_equal(avg_pool2d_backward_spec(dout, x, spec, cip), avg_pool2d_backward(dout, x, k, s, p, cip))


# ---------------------------------------------------------------------------------------------------
# hand cases
# ---------------------------------------------------------------------------------------------------
def test_four_by_four_with_two_by_two_kernel_stride_two():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    # windows: [0, 1, 4, 5] -> 10/4 = 2.5   [2, 3, 6, 7] -> 18/4 = 4.5
    #          [8, 9, 12, 13] -> 42/4 = 10.5   [10, 11, 14, 15] -> 50/4 = 12.5
    np.testing.assert_array_equal(avg_pool2d(x, 2, 2)[0, 0], [[2.5, 4.5], [10.5, 12.5]])
    np.testing.assert_array_equal(avg_pool2d(x, 2)[0, 0], [[2.5, 4.5], [10.5, 12.5]])  # stride defaults to the kernel
    # backward: each window's 4 cells get dout / 4; windows do not overlap
    dout = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    expected = [[0.25, 0.25, 0.5, 0.5], [0.25, 0.25, 0.5, 0.5], [0.75, 0.75, 1.0, 1.0], [0.75, 0.75, 1.0, 1.0]]
    np.testing.assert_array_equal(avg_pool2d_backward(dout, x, 2, 2)[0, 0], expected)


def test_padded_border_counts_padding_or_not():
    # a 2x2 input of ones, kernel 2, stride 1, padding 1: a 3x3 output. Window (0, 0) covers padded cells
    # (-1, -1), (-1, 0), (0, -1), (0, 0): one real cell; an edge window (0, 1) holds two; the centre (1, 1) four.
    x = np.ones((1, 1, 2, 2))
    spec = pool_spec(x.shape, 2, 1, 1)
    # count_include_pad=True: the divisor is always 2*2 = 4 -> corners 1/4, edges 2/4, centre 4/4
    np.testing.assert_array_equal(avg_pool_divisors(spec, True), np.full((3, 3), 4))
    np.testing.assert_array_equal(avg_pool2d(x, 2, 1, 1, True)[0, 0], [[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]])
    # count_include_pad=False: the divisor is the real cells, 1 at corners, 2 at edges, 4 at the centre -> all ones
    np.testing.assert_array_equal(avg_pool_divisors(spec, False), [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    np.testing.assert_array_equal(avg_pool2d(x, 2, 1, 1, False)[0, 0], np.ones((3, 3)))
    dout = np.ones((1, 1, 3, 3))
    # True: every input cell lies in 4 windows, each gives 1/4 -> 1; sum 4 of sum(dout) 9 (padding took 5: corners
    # 3/4 each, edges 2/4 each -> 4*3/4 + 4*2/4 = 5)
    np.testing.assert_array_equal(avg_pool2d_backward(dout, x, 2, 1, 1, True)[0, 0], np.ones((2, 2)))
    # False: cell (0, 0) lies in windows (0, 0) /1, (0, 1) /2, (1, 0) /2, (1, 1) /4 -> 1 + 0.5 + 0.5 + 0.25 = 2.25,
    # the same for every cell by symmetry; sum 9 = sum(dout)
    np.testing.assert_array_equal(avg_pool2d_backward(dout, x, 2, 1, 1, False)[0, 0], np.full((2, 2), 2.25))


def test_overlapping_windows_add_and_unread_cells_get_nothing():
    # 1x3 input [0, 3, 6], kernel 1x2, stride 1: y = [1.5, 4.5]; dout [2, 4] -> shares 1 and 2; the middle cell
    # is in both windows: dx = [1, 1 + 2, 2] = [1, 3, 2]
    x = np.array([[[[0.0, 3.0, 6.0]]]])
    np.testing.assert_array_equal(avg_pool2d(x, (1, 2), 1)[0, 0], [[1.5, 4.5]])
    np.testing.assert_array_equal(avg_pool2d_backward(np.array([[[[2.0, 4.0]]]]), x, (1, 2), 1)[0, 0], [[1.0, 3.0, 2.0]])
    # 1x5 input, kernel 1x2 stride 2: windows [0, 1] and [2, 3]; column 4 is never read (the remainder) -> 0
    x5 = np.array([[[[1.0, 2.0, 3.0, 4.0, 100.0]]]])
    np.testing.assert_array_equal(avg_pool2d(x5, (1, 2), 2)[0, 0], [[1.5, 3.5]])
    np.testing.assert_array_equal(avg_pool2d_backward(np.array([[[[2.0, 6.0]]]]), x5, (1, 2), 2)[0, 0], [[1.0, 1.0, 3.0, 3.0, 0.0]])


def test_non_square_kernel_and_border_divisors():
    # 5x5 input, kernel 3, stride 2, padding 1: windows start at padded rows 0, 2, 4 = input rows -1, 1, 3, holding
    # 2, 3 and 2 real rows (rows -1 and 5 are padding); the same for columns -> real cells = outer product
    spec = pool_spec((1, 1, 5, 5), 3, 2, 1)
    np.testing.assert_array_equal(avg_pool_divisors(spec, False), [[4, 6, 4], [6, 9, 6], [4, 6, 4]])
    # kernel (1, 3), padding (0, 1) on a 2x4 input, stride 1: columns windows start at -1, 0, 1, 2 (4 windows), real
    # cells 2, 3, 3, 2; one row per window
    spec = pool_spec((1, 1, 2, 4), (1, 3), 1, (0, 1))
    np.testing.assert_array_equal(avg_pool_divisors(spec, False), [[2, 3, 3, 2], [2, 3, 3, 2]])
    np.testing.assert_array_equal(avg_pool_divisors(spec, True), np.full((2, 4), 3))


def test_global_average_pooling():
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]], [[0.0, 0.0], [0.0, 8.0]]]])  # (1, 2, 2, 2)
    # channel 0: (1 + 2 + 3 + 4) / 4 = 2.5; channel 1: 8 / 4 = 2
    np.testing.assert_array_equal(global_avg_pool2d(x), [[[[2.5]], [[2.0]]]])
    # backward: every cell of a channel gets dout / 4 -> 8/4 = 2 and -4/4 = -1
    dx = global_avg_pool2d_backward(np.array([[[[8.0]], [[-4.0]]]]), x)
    np.testing.assert_array_equal(dx, [[[[2.0, 2.0], [2.0, 2.0]], [[-1.0, -1.0], [-1.0, -1.0]]]])


@settings(max_examples=40, **SETTINGS)
@given(st.integers(1, 2), st.integers(1, 3), st.integers(1, 7), st.integers(1, 7), st.integers(0, 2**31))
def test_global_average_pooling_matches_torch_and_the_full_kernel(n, c, h, w, seed):
    rng = np.random.default_rng(seed)
    x, dout = rng.standard_normal((n, c, h, w)), rng.standard_normal((n, c, 1, 1))
    xt = t(x, True)
    y = F.adaptive_avg_pool2d(xt, 1)
    y.backward(t(dout))
    np.testing.assert_allclose(global_avg_pool2d(x), y.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(global_avg_pool2d_backward(dout, x), xt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(global_avg_pool2d(x), avg_pool2d(x, (h, w)), atol=1e-12)
    np.testing.assert_allclose(global_avg_pool2d_backward(dout, x), avg_pool2d_backward(dout, x, (h, w)), atol=1e-12)


def test_float32_stays_float32_like_torch():
    x = np.random.default_rng(0).standard_normal((1, 2, 5, 5)).astype(np.float32)
    y = avg_pool2d(x, 3, 2, 1, False)
    assert y.dtype == np.float32
    assert avg_pool2d_backward(np.ones_like(y), x, 3, 2, 1, False).dtype == np.float32
    np.testing.assert_allclose(y, F.avg_pool2d(torch.from_numpy(x), 3, 2, 1, count_include_pad=False).numpy(), rtol=1e-6)


# ---------------------------------------------------------------------------------------------------
# errors say what is wrong and how to fix it
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, pattern", [
    (lambda: avg_pool2d(np.zeros((1, 1, 5, 5)), 2, 2, 2), r"padding \(height\): must be at most half the kernel \(2 // 2 = 1\), got 2"),
    (lambda: avg_pool2d(np.zeros((1, 1, 5, 5)), (3, 2), 1, (1, 2)), r"padding \(width\): must be at most half.*larger kernel"),
    (lambda: avg_pool2d(np.zeros((1, 1, 5, 5)), 2, 1, "same"), r"padding: pooling takes an int or \(ph, pw\)"),
    (lambda: avg_pool2d(np.zeros((5, 5)), 2), r"x: expected a 4-D array \(N, C, H, W\), got shape \(5, 5\)"),
    (lambda: avg_pool2d(np.zeros((1, 1, 5, 5)), 2, 1, 0, 1), r"count_include_pad: expected True or False, got 1"),
    (lambda: avg_pool2d(np.zeros((1, 1, 2, 2)), 3), r"kernel_size \(height\).*larger than the padded input"),
    (lambda: avg_pool2d_backward(np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 5, 5)), 2, 2),
     r"dout: expected shape \(1, 1, 2, 2\) \(N, C, OH, OW\).*got \(1, 1, 3, 3\)"),
    (lambda: global_avg_pool2d_backward(np.zeros((1, 2, 2, 2)), np.zeros((1, 2, 4, 4))),
     r"dout: expected shape \(1, 2, 1, 1\).*got \(1, 2, 2, 2\)"),
    (lambda: global_avg_pool2d(np.zeros((4, 4))), r"x: expected a 4-D array"),
])
def test_error_messages(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


def test_spec_functions_refuse_dilation_and_padding_only_windows():
    dilated = pool_spec((1, 1, 6, 6), 2, 1, 0, dilation=2)
    with pytest.raises(ValueError, match=r"dilation: average pooling has no dilation.*pool_spec"):
        avg_pool2d_spec(np.zeros((1, 1, 6, 6)), dilated)
    with pytest.raises(ValueError, match=r"dilation: average pooling has no dilation"):
        avg_pool_divisors(dilated)
    # a hand-made spec with more padding than pool_spec allows: the first row window is all padding
    wide = ConvSpec.create(3, 3, 2, 2, (2, 0, 0, 0), n=1, c=1, f=1)
    with pytest.raises(ValueError, match=r"padding \(height\): window 0 .* only padding"):
        avg_pool2d_backward_spec(np.zeros(wide.output_shape), np.zeros((1, 1, 3, 3)), wide, False)
