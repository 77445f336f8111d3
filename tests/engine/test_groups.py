"""Grouped and depthwise convolution (issue 22, part 3): every forward and backward method, conv_transpose2d,
the gradient check and the spec, against an independent loop reference, PyTorch (float64) and central differences.

Groups G split the C input channels into G blocks of CG = C/G and the F output channels into G blocks of FG = F/G;
output channel f (group g = f // FG) reads only input channels g*CG .. (g+1)*CG - 1, so w is (F, CG, KH, KW).
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import convviz as cv
from convviz.bugs import BUGS, buggy_backward
from convviz.conv import conv2d_backward_spec, conv2d_spec
from convviz.geometry import ConvSpec, spec_for
from tests.reference import out_size, pad4
from tests.strategies import PADDING, resolve

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


# ---------------------------------------------------------------------------------------------------
# an independent reference, from the definition (does not import convviz)
# ---------------------------------------------------------------------------------------------------
def grouped_forward(x, w, b, stride, pads, dil, groups):
    """y[n, f, i, j] = b[f] + sum_{c < CG, u, v} w[f, c, u, v] * xp[n, g*CG + c, i*SH + u*DH, j*SW + v*DW],
    g = f // FG. One (n, f, c, u, v) term at a time; the (i, j) grid of that term is gathered with np.ix_."""
    (sh, sw), (top, bottom, left, right), (dh, dw) = stride, pads, dil
    N, C, H, W = x.shape
    Fo, CG, KH, KW = w.shape
    assert CG * groups == C and Fo % groups == 0
    FG = Fo // groups
    xp = pad4(x, top, bottom, left, right)
    OH, OW = out_size(H, top, bottom, KH, sh, dh), out_size(W, left, right, KW, sw, dw)
    y = np.zeros((N, Fo, OH, OW))
    for n in range(N):
        for f in range(Fo):
            g = f // FG
            if b is not None:
                y[n, f] += b[f]
            for c in range(CG):
                for u in range(KH):
                    for v in range(KW):
                        rows, cols = np.arange(OH) * sh + u * dh, np.arange(OW) * sw + v * dw
                        y[n, f] += w[f, c, u, v] * xp[n, g * CG + c][np.ix_(rows, cols)]
    return y


def grouped_backward(dout, x, w, stride, pads, dil, groups):
    """dx, dw, db of L = sum(y * dout): the chain rule on every term of grouped_forward's sum."""
    (sh, sw), (top, bottom, left, right), (dh, dw_) = stride, pads, dil
    N, C, H, W = x.shape
    Fo, CG, KH, KW = w.shape
    FG = Fo // groups
    xp = pad4(x, top, bottom, left, right)
    dxp, dw, db = np.zeros_like(xp), np.zeros(w.shape), dout.sum(axis=(0, 2, 3))
    OH, OW = dout.shape[2:]
    for n in range(N):
        for f in range(Fo):
            g = f // FG
            for c in range(CG):
                for u in range(KH):
                    for v in range(KW):
                        rows, cols = np.arange(OH) * sh + u * dh, np.arange(OW) * sw + v * dw_
                        grid = np.ix_(rows, cols)  # distinct cells for one (u, v): += does not lose terms
                        dw[f, c, u, v] += np.sum(xp[n, g * CG + c][grid] * dout[n, f])
                        dxp[n, g * CG + c][grid] += w[f, c, u, v] * dout[n, f]
    return dxp[:, :, top : top + H, left : left + W], dw, db


# ---------------------------------------------------------------------------------------------------
# strategy: the whole parameter space with C, F <= 8 and groups dividing both
# ---------------------------------------------------------------------------------------------------
@st.composite
def grouped_cases(draw, max_hw=8):
    """(x, w, b, stride, padding argument, resolved pads, dilation, groups)."""
    groups = draw(st.integers(1, 8))
    depthwise = draw(st.booleans())  # groups = C, F a multiple of C
    c = groups if depthwise else groups * draw(st.integers(1, 8 // groups))
    f = groups * draw(st.integers(1, 8 // groups))
    n = draw(st.integers(1, 2))
    h, w_ = draw(st.integers(1, max_hw)), draw(st.integers(1, max_hw))
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))  # even kernels too
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))  # often not dividing
    d = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = draw(PADDING)  # valid/same/full, int, (ph, pw), asymmetric (t, b, l, r)
    pads = resolve(padding, h, w_, k, s, d)
    assume(h + pads[0] + pads[1] >= d[0] * (k[0] - 1) + 1 and w_ + pads[2] + pads[3] >= d[1] * (k[1] - 1) + 1)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((n, c, h, w_))
    w = rng.standard_normal((f, c // groups, *k))
    b = rng.standard_normal(f) if draw(st.booleans()) else None
    return x, w, b, s, padding, pads, d, groups


def t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


# ---------------------------------------------------------------------------------------------------
# every method against the loop reference and against PyTorch
# ---------------------------------------------------------------------------------------------------
@settings(max_examples=120, **SETTINGS)
@given(grouped_cases(), st.integers(0, 2**31))
def test_every_method_matches_the_grouped_loop_reference(case, seed):
    x, w, b, s, padding, pads, d, g = case
    y_ref = grouped_forward(x, w, b, s, pads, d, g)
    for method in cv.FORWARD_METHODS:
        np.testing.assert_allclose(cv.conv2d(x, w, b, s, padding, d, method=method, groups=g), y_ref, atol=1e-9,
                                   err_msg=method)
    dout = np.random.default_rng(seed).standard_normal(y_ref.shape)
    dx_ref, dw_ref, db_ref = grouped_backward(dout, x, w, s, pads, d, g)
    for method in cv.BACKWARD_METHODS:
        dx, dw, db = cv.conv2d_backward(dout, x, w, s, padding, d, method=method, groups=g)
        assert dx.shape == x.shape and dw.shape == w.shape, method
        np.testing.assert_allclose(dx, dx_ref, atol=1e-9, err_msg=method)
        np.testing.assert_allclose(dw, dw_ref, atol=1e-9, err_msg=method)
        np.testing.assert_allclose(db, db_ref, atol=1e-9, err_msg=method)


@settings(max_examples=120, **SETTINGS)
@given(grouped_cases(), st.integers(0, 2**31))
def test_every_method_matches_torch_forward_and_autograd(case, seed):
    x, w, b, s, padding, pads, d, g = case
    top, bottom, left, right = pads
    xt, wt = t(x, True), t(w, True)
    bt = t(b, True) if b is not None else None
    y = F.conv2d(F.pad(xt, (left, right, top, bottom)), wt, bt, stride=s, dilation=d, groups=g)
    dout = np.random.default_rng(seed).standard_normal(tuple(y.shape))
    y.backward(t(dout))
    np.testing.assert_allclose(grouped_forward(x, w, b, s, pads, d, g), y.detach().numpy(), atol=1e-9)  # the reference
    for method in cv.FORWARD_METHODS:
        np.testing.assert_allclose(cv.conv2d(x, w, b, s, padding, d, method=method, groups=g), y.detach().numpy(),
                                   atol=1e-9, err_msg=method)
    for method in cv.BACKWARD_METHODS:
        dx, dw, db = cv.conv2d_backward(dout, x, w, s, padding, d, method=method, groups=g)
        np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-9, err_msg=method)
        np.testing.assert_allclose(dw, wt.grad.numpy(), atol=1e-9, err_msg=method)
        if b is not None:
            np.testing.assert_allclose(db, bt.grad.numpy(), atol=1e-9, err_msg=method)


@settings(max_examples=60, **SETTINGS)
@given(grouped_cases())
def test_grouped_is_block_diagonal_of_ordinary_convolutions(case):
    """Group g of y is the ungrouped convolution of x's group-g channels with group g's kernels."""
    x, w, b, s, padding, pads, d, g = case
    CG, FG = x.shape[1] // g, w.shape[0] // g
    y = cv.conv2d(x, w, b, s, padding, d, groups=g)
    for k in range(g):
        bk = None if b is None else b[k * FG : (k + 1) * FG]
        part = cv.conv2d(x[:, k * CG : (k + 1) * CG], w[k * FG : (k + 1) * FG], bk, s, padding, d)
        np.testing.assert_allclose(y[:, k * FG : (k + 1) * FG], part, atol=1e-12)


@settings(max_examples=80, **SETTINGS)
@given(st.integers(1, 4), st.integers(1, 2), st.integers(1, 2), st.integers(1, 2), st.integers(1, 6), st.integers(1, 6),
       st.tuples(st.integers(1, 4), st.integers(1, 4)), st.tuples(st.integers(1, 3), st.integers(1, 3)),
       st.tuples(st.integers(0, 2), st.integers(0, 2)), st.tuples(st.integers(0, 2), st.integers(0, 2)),
       st.tuples(st.integers(1, 2), st.integers(1, 2)), st.booleans(), st.integers(0, 2**31))
def test_conv_transpose2d_with_groups_matches_torch(g, cin_g, cout_g, n, h, w, k, s, p, op, d, bias, seed):
    assume(all(o < max(si, di) for o, si, di in zip(op, s, d)))
    assume(all((size - 1) * si - 2 * pi + di * (ki - 1) + oi + 1 >= 1 for size, si, pi, di, ki, oi in zip((h, w), s, p, d, k, op)))
    rng = np.random.default_rng(seed)
    x, wt_ = rng.standard_normal((n, g * cin_g, h, w)), rng.standard_normal((g * cin_g, cout_g, *k))  # (CIN, COUT/G, ..)
    b = rng.standard_normal(g * cout_g) if bias else None
    y = F.conv_transpose2d(t(x), t(wt_), None if b is None else t(b), s, p, op, g, d).numpy()
    got = cv.conv_transpose2d(x, wt_, b, s, p, op, d, groups=g)
    assert got.shape == y.shape and got.shape[1] == g * cout_g
    np.testing.assert_allclose(got, y, atol=1e-9)


@settings(max_examples=40, **SETTINGS)
@given(grouped_cases(), st.integers(0, 2**31))
def test_conv_transpose2d_is_the_input_gradient_of_the_grouped_conv(case, seed):
    """conv_transpose2d(dout, w, groups=G) with w (F, C/G, ..) read as (CIN = F, COUT/G = C/G, ..) is dx."""
    x, w, _, s, _, pads, d, g = case
    assume(pads[0] == pads[1] and pads[2] == pads[3])  # conv_transpose2d takes symmetric padding
    spec = spec_for(x.shape, w.shape, s, pads, d, g)
    dout = np.random.default_rng(seed).standard_normal(spec.output_shape)
    dx = cv.conv2d_backward(dout, x, w, s, pads, d, groups=g)[0]
    # the rows the forward windows never reached are added back by output_padding, when torch allows it
    op = (spec.rem_h, spec.rem_w)
    assume(all(o < max(si, di) for o, si, di in zip(op, s, d)))
    np.testing.assert_allclose(cv.conv_transpose2d(dout, w, None, s, (pads[0], pads[2]), op, d, groups=g), dx, atol=1e-9)


# ---------------------------------------------------------------------------------------------------
# finite differences
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape_x, shape_w, groups", [
    ((2, 4, 7, 6), (6, 2, 3, 2), 2),  # two groups of 2 channels -> 3 filters each
    ((1, 3, 6, 6), (3, 1, 3, 3), 3),  # depthwise
    ((2, 2, 5, 7), (4, 1, 2, 4), 2),  # depthwise with channel multiplier 2, even kernel
    ((1, 6, 6, 5), (6, 2, 3, 3), 3),
])
@pytest.mark.parametrize("stride, padding, dilation", [(1, 0, 1), (2, (1, 0, 2, 1), (1, 2)), ((2, 3), "same", 2), (1, "full", 1)])
@pytest.mark.parametrize("method", cv.BACKWARD_METHODS)
def test_grouped_gradients_pass_finite_differences(shape_x, shape_w, groups, stride, padding, dilation, method):
    rng = np.random.default_rng(11)
    x, w, b = rng.standard_normal(shape_x), rng.standard_normal(shape_w), rng.standard_normal(shape_w[0])
    checks = cv.check_conv2d(x, w, b, None, stride, padding, dilation, method=method, groups=groups)
    assert [c.name for c in checks] == ["dx", "dw", "db"]
    for check in checks:
        assert check.analytic.shape == check.numeric.shape
        assert check.passed, (check.name, check.max_rel_error)


@settings(max_examples=25, **SETTINGS)
@given(grouped_cases(max_hw=6), st.sampled_from(cv.BACKWARD_METHODS))
def test_grouped_gradients_pass_finite_differences_anywhere(case, method):
    x, w, b, s, padding, _, d, g = case
    for check in cv.check_conv2d(x, w, b, None, s, padding, d, method=method, max_entries=40, groups=g):
        assert check.passed, (check.name, check.max_rel_error)


def test_finite_differences_catch_a_group_mix_up():
    """Gradients routed to the wrong group (the group blocks of dx or dw swapped) fail the check."""
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((1, 4, 6, 6)), rng.standard_normal((4, 2, 3, 3))
    dx, dw, _ = cv.check_conv2d(x, w, None, None, 1, 1, 1, groups=2)
    assert dx.passed and dw.passed
    swapped_dx = np.concatenate([dx.analytic[:, 2:], dx.analytic[:, :2]], axis=1)
    swapped_dw = np.concatenate([dw.analytic[2:], dw.analytic[:2]], axis=0)
    assert not cv.GradCheck("dx", swapped_dx, dx.numeric, dx.noise).passed
    assert not cv.GradCheck("dw", swapped_dw, dw.numeric, dw.noise).passed
    # and the ungrouped gradient (every output channel reading every input channel) is wrong, not just reshaped
    full_w = np.zeros((4, 4, 3, 3))
    full_w[:2, :2], full_w[2:, 2:] = w[:2], w[2:]  # the block-diagonal ungrouped kernel: same forward ...
    np.testing.assert_allclose(cv.conv2d(x, full_w, padding=1), cv.conv2d(x, w, padding=1, groups=2), atol=1e-12)
    dw_full = cv.conv2d_backward(np.ones((1, 4, 6, 6)), x, full_w, 1, 1)[1]
    assert np.abs(dw_full[:2, 2:]).max() > 1e-3  # ... but the ungrouped layer also learns the off-diagonal blocks


# ---------------------------------------------------------------------------------------------------
# a hand case: depthwise, 2 channels
# ---------------------------------------------------------------------------------------------------
def test_depthwise_two_channels_by_hand():
    # x channel 0 = [[1,2,3],[4,5,6],[7,8,9]], channel 1 = [[1,0,2],[0,1,0],[3,0,1]]
    # groups = C = 2: w is (F=2, C/G=1, 2, 2); w0 = [[1,0],[0,-1]] sees channel 0 only, w1 = ones sees channel 1 only.
    x = np.array([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[1, 0, 2], [0, 1, 0], [3, 0, 1]]]], dtype=float)
    w = np.array([[[[1, 0], [0, -1]]], [[[1, 1], [1, 1]]]], dtype=float)
    # y0[i,j] = x0[i,j] - x0[i+1,j+1]: 1-5, 2-6, 4-8, 5-9 = -4 everywhere
    # y1 = sums of the 2x2 blocks of x1: 1+0+0+1 = 2, 0+2+1+0 = 3, 0+1+3+0 = 4, 1+0+0+1 = 2
    y_hand = np.array([[[[-4, -4], [-4, -4]], [[2, 3], [4, 2]]]], dtype=float)
    for method in cv.FORWARD_METHODS:
        np.testing.assert_array_equal(cv.conv2d(x, w, method=method, groups=2), y_hand, err_msg=method)
    # dout = ones. dx0: w0 stamped at the 4 windows: +1 at each top-left (0,0),(0,1),(1,0),(1,1) and -1 at each
    # bottom-right (1,1),(1,2),(2,1),(2,2); the centre gets +1 - 1 = 0. dx1: how many windows cover each cell.
    dx_hand = np.array([[[[1, 1, 0], [1, 0, -1], [0, -1, -1]], [[1, 2, 1], [2, 4, 2], [1, 2, 1]]]], dtype=float)
    # dw0[u,v] = sum of the 2x2 block of x0 at (u,v): 1+2+4+5 = 12, 2+3+5+6 = 16, 4+5+7+8 = 24, 5+6+8+9 = 28
    # dw1[u,v] = the same blocks of x1 = y1: 2, 3, 4, 2. db = 4 windows each = [4, 4].
    dw_hand = np.array([[[[12, 16], [24, 28]]], [[[2, 3], [4, 2]]]], dtype=float)
    for method in cv.BACKWARD_METHODS:
        dx, dw, db = cv.conv2d_backward(np.ones((1, 2, 2, 2)), x, w, method=method, groups=2)
        np.testing.assert_array_equal(dx, dx_hand, err_msg=method)
        np.testing.assert_array_equal(dw, dw_hand, err_msg=method)
        np.testing.assert_array_equal(db, [4, 4], err_msg=method)


# ---------------------------------------------------------------------------------------------------
# the spec and the error messages
# ---------------------------------------------------------------------------------------------------
def test_spec_weight_shape_params_and_macs_count_groups():
    spec = ConvSpec.create(8, 8, 3, 1, 1, n=2, c=8, f=16, groups=4)
    assert (spec.groups, spec.cg, spec.fg) == (4, 2, 4)
    assert spec.weight_shape == (16, 2, 3, 3)  # (F, C/groups, KH, KW)
    assert spec.params == 16 * 2 * 3 * 3 + 16
    assert spec.macs == 2 * 16 * 8 * 8 * 2 * 3 * 3  # N*F*OH*OW*(C/groups)*KH*KW
    assert not spec.is_depthwise
    dw = ConvSpec.create(8, 8, 3, 1, 1, n=2, c=8, f=8, groups=8)
    assert dw.is_depthwise and dw.weight_shape == (8, 1, 3, 3) and dw.params == 8 * 9 + 8
    ungrouped = ConvSpec.create(8, 8, 3, 1, 1, n=2, c=8, f=16)
    assert ungrouped.groups == 1 and ungrouped.weight_shape == (16, 8, 3, 3) and ungrouped.macs == 4 * spec.macs
    assert spec.with_channels(1, 4, 8).groups == 4 and spec.with_channels(1, 2, 1, groups=1).groups == 1
    assert [spec.group_of(f) for f in (0, 3, 4, 15)] == [0, 0, 1, 3]
    assert spec.input_channels(5) == slice(2, 4) and ConvSpec.create(4, 4, 3, c=8, f=3).input_channels(2) == slice(0, 8)
    assert spec_for((2, 8, 8, 8), (16, 2, 3, 3), 1, 1, 1, groups=4) == spec
    assert spec_for((2, 8, 8, 8), (16, 8, 3, 3), 1, 1, 1) == ungrouped  # the default stays ungrouped


@pytest.mark.parametrize("call, message", [
    (lambda: cv.conv2d(np.zeros((1, 8, 5, 5)), np.zeros((8, 3, 3, 3)), groups=3),
     "groups: 3 does not divide the 8 input channels; use 1, 2, 4 or 8."),
    (lambda: cv.conv2d(np.zeros((1, 8, 5, 5)), np.zeros((6, 2, 3, 3)), groups=4),
     "groups: 4 does not divide the 6 output channels; use 1 or 2."),
    (lambda: cv.conv2d_backward(np.zeros((1, 9, 3, 3)), np.zeros((1, 6, 5, 5)), np.zeros((9, 3, 3, 3)), groups=2),
     "groups: 2 does not divide the 9 output channels; use 1 or 3."),
    (lambda: ConvSpec.create(5, 5, 3, c=4, f=6, groups=4), "groups: 4 does not divide the 6 output channels; use 1 or 2."),
    (lambda: cv.conv2d(np.zeros((1, 8, 5, 5)), np.zeros((8, 4, 3, 3)), groups=4),
     "w: has 4 input channels per kernel but x's 8 channels in 4 groups give 2 per group. "
     "The weight shape must be (F, C/groups, KH, KW) = (8, 2, 3, 3)."),
    (lambda: cv.conv2d(np.zeros((1, 2, 5, 5)), np.zeros((1, 3, 3, 3))),  # groups = 1: the message it always had
     "w: has 3 input channels but x has 2. The weight shape must be (F, C, KH, KW) with C = x.shape[1]."),
    (lambda: cv.conv_transpose2d(np.zeros((1, 8, 5, 5)), np.zeros((8, 2, 3, 3)), groups=3),
     "groups: 3 does not divide the 8 input channels; use 1, 2, 4 or 8."),
    (lambda: cv.conv_transpose2d(np.zeros((1, 4, 5, 5)), np.zeros((4, 2, 3, 3)), np.zeros(2), groups=2),  # COUT = G * w.shape[1] = 4
     "b: expected shape (4,) (one bias per output channel F), got (2,)."),
    (lambda: cv.check_conv2d(np.zeros((1, 4, 5, 5)), np.zeros((4, 4, 3, 3)), groups=2),
     "w: has 4 input channels per kernel but x's 4 channels in 2 groups give 2 per group. "
     "The weight shape must be (F, C/groups, KH, KW) = (4, 2, 3, 3)."),
])
def test_bad_groups_name_the_fix(call, message):
    with pytest.raises(ValueError) as err:
        call()
    assert str(err.value) == message


@pytest.mark.parametrize("groups, match", [(0, r"groups: must be at least 1"), (2.0, r"groups: expected a whole number"),
                                           (True, r"groups: expected a whole number")])
def test_groups_must_be_a_positive_int(groups, match):
    with pytest.raises(ValueError, match=match):
        cv.conv2d(np.zeros((1, 2, 5, 5)), np.zeros((2, 1, 3, 3)), groups=groups)


# ---------------------------------------------------------------------------------------------------
# the spec-level paths the traces and the bug lab use
# ---------------------------------------------------------------------------------------------------
def test_one_filter_of_a_grouped_layer_is_an_ordinary_convolution_of_its_group():
    """What a trace showing output channel f needs: x's group channels, w[f], an ungrouped spec."""
    rng = np.random.default_rng(3)
    spec = ConvSpec.create(7, 6, 3, 2, (1, 1, 0, 2), 1, n=2, c=6, f=9, groups=3)
    x, w = rng.standard_normal(spec.input_shape), rng.standard_normal(spec.weight_shape)
    y = conv2d_spec(x, w, None, spec, "im2col")
    for f in range(spec.f):
        one = spec.with_channels(spec.n, spec.cg, 1, groups=1)
        part = conv2d_spec(x[:, spec.input_channels(f)], w[f : f + 1], None, one, "loops")
        np.testing.assert_allclose(part[:, 0], y[:, f], atol=1e-12)


def test_spec_functions_carry_groups():
    rng = np.random.default_rng(2)
    spec = ConvSpec.create(6, 7, (3, 2), (2, 1), (1, 0, 0, 1), (1, 2), n=2, c=6, f=4, groups=2)
    x, w, b = rng.standard_normal(spec.input_shape), rng.standard_normal(spec.weight_shape), rng.standard_normal(4)
    dout = rng.standard_normal(spec.output_shape)
    y_ref = grouped_forward(x, w, b, spec.stride, spec.padding, spec.dilation, 2)
    ref = grouped_backward(dout, x, w, spec.stride, spec.padding, spec.dilation, 2)
    for method in cv.FORWARD_METHODS:
        np.testing.assert_allclose(conv2d_spec(x, w, b, spec, method), y_ref, atol=1e-9, err_msg=method)
    for method in cv.BACKWARD_METHODS:
        for got, want in zip(conv2d_backward_spec(dout, x, w, spec, method), ref):
            np.testing.assert_allclose(got, want, atol=1e-9, err_msg=method)


@pytest.mark.parametrize("bug_id, overrides", [
    ("no_dilate", {"h": 7, "w": 7, "s": 2}), ("no_remainder", {"s": 2}), ("col2im_assign", {}),
    ("crop_negative", {}), ("height_for_width", {"w": 8}), ("no_flip", {}),
])
def test_bug_lab_bugs_still_show_on_a_grouped_layer(bug_id, overrides):
    """Each bug switch still runs (or raises) inside the grouped code path, and the fixed line is right."""
    o = {"h": 6, "w": 6, "s": 1, **overrides}
    spec = ConvSpec.create(o["h"], o["w"], 3, o["s"], 0, 1, n=2, c=4, f=6, groups=2)
    rng = np.random.default_rng(7)
    x, w, dout = (rng.standard_normal(shape) for shape in (spec.input_shape, spec.weight_shape, spec.output_shape))
    assert BUGS[bug_id].exposed(spec, w)
    run = buggy_backward(bug_id, dout, x, w, spec)
    ref = grouped_backward(dout, x, w, spec.stride, spec.padding, spec.dilation, 2)[0]
    np.testing.assert_allclose(run.dx_ok, ref, atol=1e-9)
    assert run.dx is None or run.dx.shape != ref.shape or np.abs(run.dx - ref).max() > 1e-3
