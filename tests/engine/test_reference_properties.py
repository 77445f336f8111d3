"""Every method against the independent loop reference, over the whole parameter space."""
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convviz as cv
from convviz.geometry import ConvSpec
from tests import reference as ref
from tests.strategies import conv_cases, fold_cases, pool_cases

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@settings(max_examples=120, **SETTINGS)
@given(conv_cases())
def test_forward_methods_match_reference(case):
    x, w, b, s, padding, pads, d = case
    expected = ref.conv_forward(x, w, b, s, pads, d)
    for method in cv.FORWARD_METHODS:
        np.testing.assert_allclose(cv.conv2d(x, w, b, s, padding, d, method=method), expected, atol=1e-9, err_msg=method)


@settings(max_examples=120, **SETTINGS)
@given(conv_cases(), st.integers(0, 2**31))
def test_backward_methods_match_reference(case, seed):
    x, w, b, s, padding, pads, d = case
    y = ref.conv_forward(x, w, b, s, pads, d)
    dout = np.random.default_rng(seed).standard_normal(y.shape)
    edx, edw, edb = ref.conv_backward(dout, x, w, s, pads, d)
    for method in cv.BACKWARD_METHODS:
        dx, dw, db = cv.conv2d_backward(dout, x, w, s, padding, d, method=method)
        np.testing.assert_allclose(dx, edx, atol=1e-9, err_msg=f"dx {method}")
        np.testing.assert_allclose(dw, edw, atol=1e-9, err_msg=f"dw {method}")
        np.testing.assert_allclose(db, edb, atol=1e-9, err_msg=f"db {method}")


@settings(max_examples=100, **SETTINGS)
@given(fold_cases(), st.integers(0, 2**31))
def test_im2col_col2im_match_reference_and_are_adjoint(case, seed):
    x, k, s, p, d = case
    cols = cv.im2col(x, k, s, p, d)
    np.testing.assert_array_equal(cols, ref.unfold(x, k, s, p, d))
    c = np.random.default_rng(seed).standard_normal(cols.shape)
    folded = cv.col2im(c, x.shape[2:], k, s, p, d)
    np.testing.assert_allclose(folded, ref.fold(c, x.shape[2:], k, s, p, d), atol=1e-12)
    # adjointness: <im2col(x), c> = <x, col2im(c)>
    np.testing.assert_allclose(np.sum(cols * c), np.sum(x * folded), rtol=1e-10, atol=1e-10)


@settings(max_examples=60, **SETTINGS)
@given(fold_cases())
def test_col2im_of_im2col_is_x_times_overlap_count(case):
    x, k, s, p, d = case
    spec = ConvSpec.create(*x.shape[2:], k, s, (p[0], p[0], p[1], p[1]), d)
    count = spec.coverage()[p[0] : p[0] + x.shape[2], p[1] : p[1] + x.shape[3]]
    np.testing.assert_allclose(cv.col2im(cv.im2col(x, k, s, p, d), x.shape[2:], k, s, p, d), x * count, atol=1e-12)


@settings(max_examples=60, **SETTINGS)
@given(conv_cases(), st.integers(0, 2**31))
def test_teaching_forms_equal_fast_paths(case, seed):
    """The index-array gather equals the strided im2col; np.add.at col2im equals the slice-add fast path."""
    from convviz.im2col import col2im_add_at, col2im_spec, im2col_gather, im2col_spec

    x, w, b, s, padding, pads, d = case
    spec = cv.spec_for(x.shape, w.shape, s, padding, d)
    np.testing.assert_array_equal(im2col_gather(x, spec), im2col_spec(x, spec))
    c = np.random.default_rng(seed).standard_normal((spec.n, spec.c * spec.kh * spec.kw, spec.oh * spec.ow))
    np.testing.assert_allclose(col2im_add_at(c, spec), col2im_spec(c, spec), atol=1e-12)


@settings(max_examples=100, **SETTINGS)
@given(pool_cases(), st.integers(0, 2**31))
def test_max_pool_matches_reference(case, seed):
    x, k, s, p, d = case
    y_ref, _ = ref.maxpool_forward_backward(x, None, k, s, p, d)
    dout = np.random.default_rng(seed).standard_normal(y_ref.shape)
    _, dx_ref = ref.maxpool_forward_backward(x, dout, k, s, p, d)
    np.testing.assert_array_equal(cv.max_pool2d(x, k, s, p, d), y_ref)
    np.testing.assert_allclose(cv.max_pool2d_backward(dout, x, k, s, p, d), dx_ref, atol=1e-12)


@settings(max_examples=100, **SETTINGS)
@given(pool_cases(ties=True), st.integers(0, 2**31))
def test_max_pool_ties_go_to_the_first_maximum(case, seed):
    x, k, s, p, d = case  # integers 0..2: ties in almost every window
    y_ref, _ = ref.maxpool_forward_backward(x, None, k, s, p, d)
    dout = np.random.default_rng(seed).integers(1, 5, size=y_ref.shape).astype(float)
    _, dx_ref = ref.maxpool_forward_backward(x, dout, k, s, p, d)
    np.testing.assert_array_equal(cv.max_pool2d_backward(dout, x, k, s, p, d), dx_ref)


@settings(max_examples=80, **SETTINGS)
@given(conv_cases(), st.integers(0, 2**31))
def test_conv_transpose_is_the_conv_input_gradient(case, seed):
    x, w, b, s, padding, pads, d = case
    top, bottom, left, right = pads
    if top != bottom or left != right:
        return  # conv_transpose2d takes symmetric padding, like PyTorch
    y = ref.conv_forward(x, w, None, s, pads, d)
    dout = np.random.default_rng(seed).standard_normal(y.shape)
    dx, _, _ = ref.conv_backward(dout, x, w, s, pads, d)
    H, W = x.shape[2:]
    # the output_padding that makes the transposed output exactly H x W (what no window reached)
    oph = H - ((y.shape[2] - 1) * s[0] - 2 * top + d[0] * (w.shape[2] - 1) + 1)
    opw = W - ((y.shape[3] - 1) * s[1] - 2 * left + d[1] * (w.shape[3] - 1) + 1)
    if oph >= max(s[0], d[0]) or opw >= max(s[1], d[1]):
        return  # PyTorch's rule: output_padding below stride or dilation
    got = cv.conv_transpose2d(dout, w, None, s, (top, left), (oph, opw), d)
    np.testing.assert_allclose(got, dx, atol=1e-9)
