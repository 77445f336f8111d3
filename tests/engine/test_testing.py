"""convviz.testing: the correct engine passes; each bug-lab bug (the engine's own buggy path) is caught."""
import numpy as np
import pytest

import convviz as cv
from convviz.bugs import BUGS
from convviz.conv import conv2d_backward_spec
from convviz.geometry import spec_for
from convviz.testing import check_conv2d


def engine_forward(x, w, b, stride, padding, dilation):
    return cv.conv2d(x, w, b, stride, padding, dilation, method="loops")


def buggy(bug_id):
    def backward(dout, x, w, stride, padding, dilation):
        spec = spec_for(x.shape, w.shape, stride, padding, dilation)
        return conv2d_backward_spec(dout, x, w, spec, BUGS[bug_id].method, _bug=bug_id)
    return backward


@pytest.mark.parametrize("method", ["loops", "col2im", "transposed"])
def test_correct_engine_passes(method):
    def backward(dout, x, w, stride, padding, dilation):
        return cv.conv2d_backward(dout, x, w, stride, padding, dilation, method=method)
    report = check_conv2d(engine_forward, backward)
    assert report.passed and report.checked > 8 and "PASS" in str(report)


@pytest.mark.parametrize("bug_id", [b for b in BUGS if BUGS[b].kind == "conv_backward"])  # conv2d backward's bugs
def test_each_bug_is_caught(bug_id):
    report = check_conv2d(backward=buggy(bug_id))
    assert not report.passed
    assert report.failure.case.name in str(report)


def test_report_names_where_it_differs():
    def off_by_one(x, w, b, stride, padding, dilation):
        y = engine_forward(x, w, b, stride, padding, dilation).copy()
        if y.shape[-1] > 3:  # wrong only on inputs wide enough: the first case passes
            y[0, 0, 0, 3] += 1.0
        return y
    report = check_conv2d(off_by_one)
    assert report.failure.array == "y" and report.failure.where == (0, 0, 0, 3)
    assert report.failure.max_diff == pytest.approx(1.0)
    assert "y[0, 0, 0, 3]" in str(report)


def test_user_exception_reported_with_setting():
    def explode(dout, x, w, stride, padding, dilation):
        if stride != (1, 1):
            raise RuntimeError("stride not supported")
        return cv.conv2d_backward(dout, x, w, stride, padding, dilation)
    report = check_conv2d(backward=explode)
    assert "RuntimeError: stride not supported" in str(report) and report.failure.case.stride != (1, 1)


def test_wrong_shape_reported():
    report = check_conv2d(lambda x, w, b, *a: np.zeros((1, 1, 1, 1)))
    assert "shape (1, 1, 1, 1)" in str(report)
