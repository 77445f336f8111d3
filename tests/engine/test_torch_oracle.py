"""PyTorch (CPU, float64) as an oracle. torch is a hard test dependency: these never skip."""
import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convviz as cv
from tests.strategies import conv_cases, fold_cases, pool_cases

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


@settings(max_examples=100, **SETTINGS)
@given(conv_cases(), st.integers(0, 2**31))
def test_conv2d_forward_and_backward_match_torch(case, seed):
    x, w, b, s, padding, pads, d = case
    top, bottom, left, right = pads
    xt, wt = t(x, True), t(w, True)
    bt = t(b, True) if b is not None else None
    # asymmetric padding: pad explicitly (F.pad takes left, right, top, bottom), then a valid convolution
    y = F.conv2d(F.pad(xt, (left, right, top, bottom)), wt, bt, stride=s, dilation=d)
    dout = np.random.default_rng(seed).standard_normal(tuple(y.shape))
    y.backward(t(dout))
    np.testing.assert_allclose(cv.conv2d(x, w, b, s, padding, d), y.detach().numpy(), atol=1e-9)
    for method in cv.BACKWARD_METHODS:
        dx, dw, db = cv.conv2d_backward(dout, x, w, s, padding, d, method=method)
        np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-9, err_msg=method)
        np.testing.assert_allclose(dw, wt.grad.numpy(), atol=1e-9, err_msg=method)
        if b is not None:
            np.testing.assert_allclose(db, bt.grad.numpy(), atol=1e-9, err_msg=method)


@settings(max_examples=60, **SETTINGS)
@given(conv_cases())
def test_same_padding_with_stride_one_equals_torch_same(case):
    x, w, b, s, padding, pads, d = case
    y = F.conv2d(t(x), t(w), None if b is None else t(b), stride=1, padding="same", dilation=d)
    np.testing.assert_allclose(cv.conv2d(x, w, b, 1, "same", d), y.numpy(), atol=1e-9)


@settings(max_examples=80, **SETTINGS)
@given(fold_cases(), st.integers(0, 2**31))
def test_unfold_fold_match_torch(case, seed):
    x, k, s, p, d = case
    cols = F.unfold(t(x), k, dilation=d, padding=p, stride=s).numpy()
    np.testing.assert_array_equal(cv.im2col(x, k, s, p, d), cols)
    c = np.random.default_rng(seed).standard_normal(cols.shape)
    folded = F.fold(t(c), x.shape[2:], k, dilation=d, padding=p, stride=s).numpy()
    np.testing.assert_allclose(cv.col2im(c, x.shape[2:], k, s, p, d), folded, atol=1e-12)


@settings(max_examples=80, **SETTINGS)
@given(st.booleans().flatmap(lambda ties: pool_cases(ties=ties)), st.integers(0, 2**31))
def test_max_pool_forward_backward_match_torch_including_ties(case, seed):
    x, k, s, p, d = case
    xt = t(x, True)
    y = F.max_pool2d(xt, k, s, p, d)
    dout = np.random.default_rng(seed).standard_normal(tuple(y.shape))
    y.backward(t(dout))
    np.testing.assert_array_equal(cv.max_pool2d(x, k, s, p, d), y.detach().numpy())
    np.testing.assert_allclose(cv.max_pool2d_backward(dout, x, k, s, p, d), xt.grad.numpy(), atol=1e-12)


@settings(max_examples=80, **SETTINGS)
@given(st.integers(1, 2), st.integers(1, 3), st.integers(1, 3), st.integers(1, 6), st.integers(1, 6),
       st.tuples(st.integers(1, 4), st.integers(1, 4)), st.tuples(st.integers(1, 3), st.integers(1, 3)),
       st.tuples(st.integers(0, 2), st.integers(0, 2)), st.tuples(st.integers(0, 2), st.integers(0, 2)),
       st.tuples(st.integers(1, 2), st.integers(1, 2)), st.booleans(), st.integers(0, 2**31))
def test_conv_transpose2d_matches_torch(n, cin, cout, h, w, k, s, p, op, d, bias, seed):
    from hypothesis import assume

    assume(all(o < max(si, di) for o, si, di in zip(op, s, d)))
    assume(all((size - 1) * si - 2 * pi + di * (ki - 1) + oi + 1 >= 1 for size, si, pi, di, ki, oi in zip((h, w), s, p, d, k, op)))
    rng = np.random.default_rng(seed)
    x, wt_ = rng.standard_normal((n, cin, h, w)), rng.standard_normal((cin, cout, *k))
    b = rng.standard_normal(cout) if bias else None
    y = F.conv_transpose2d(t(x), t(wt_), None if b is None else t(b), s, p, op, 1, d).numpy()
    np.testing.assert_allclose(cv.conv_transpose2d(x, wt_, b, s, p, op, d), y, atol=1e-9)
