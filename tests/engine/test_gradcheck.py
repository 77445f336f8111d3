"""Central differences agree with every analytic gradient, and catch wrong ones."""
import numpy as np
import pytest

import convviz as cv


@pytest.mark.parametrize("stride, padding, dilation", [(1, 0, 1), (2, (1, 0, 2, 1), (1, 2)), ((2, 3), "same", 2), (1, "full", 1)])
@pytest.mark.parametrize("method", cv.BACKWARD_METHODS)
def test_conv_gradients_pass(stride, padding, dilation, method):
    rng = np.random.default_rng(7)
    x, w, b = rng.standard_normal((2, 2, 7, 6)), rng.standard_normal((3, 2, 3, 2)), rng.standard_normal(3)
    for check in cv.check_conv2d(x, w, b, None, stride, padding, dilation, method=method):
        assert check.passed, (check.name, check.max_rel_error)


def test_integer_data_with_exact_zero_gradients_pass():
    # integer data makes some gradient entries exactly 0; the estimate there is rounding noise only
    spec = cv.ConvSpec.create(6, 5, (2, 3), 2, (1, 0, 0, 1), n=2, c=2, f=2)
    rng = np.random.default_rng(4)
    x = rng.integers(-3, 4, spec.input_shape).astype(float)
    w = rng.integers(-2, 3, spec.weight_shape).astype(float)
    assert all(c.passed for c in cv.check_conv2d(x, w, None, None, 2, (1, 0, 0, 1)))


def test_a_wrong_gradient_fails():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((1, 2, 6, 6)), rng.standard_normal((2, 2, 3, 3))
    dx, dw, db = cv.check_conv2d(x, w, None, None, 2)
    assert dx.passed
    for wrong in (dx.analytic * 1.001, np.roll(dx.analytic, 1), np.zeros_like(dx.analytic)):
        assert not cv.GradCheck("dx", wrong, dx.numeric, dx.noise).passed


@pytest.mark.parametrize("k, s, p, d", [(2, 2, 0, 1), (3, 1, 1, 1), ((2, 3), (1, 2), (1, 1), (2, 1))])
def test_max_pool_gradient_passes(k, s, p, d):
    x = np.random.default_rng(3).standard_normal((2, 2, 7, 8))  # real values: no ties, so differentiable
    assert cv.check_max_pool2d(x, k, s, p, d).passed


def test_sampled_check_estimates_only_the_sample():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 3, 9, 9)), rng.standard_normal((2, 3, 3, 3))
    dx, dw, db = cv.check_conv2d(x, w, max_entries=25)
    assert dx.checked == 25 and dw.checked == 25 and db.checked == 2 and dx.passed
