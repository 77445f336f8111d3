"""Bug lab: each bug, on settings that expose it, fails the gradient check and differs from the loop reference;
switched off it passes; on settings that hide it the buggy dx equals the reference."""
import numpy as np
import pytest

from convviz.bugs import BUGS, buggy_backward, check_bug
from convviz.geometry import ConvSpec
from tests.reference import conv_backward

BASE = {"h": 6, "w": 6, "kh": 3, "kw": 3, "sh": 1, "sw": 1, "pads": (0, 0, 0, 0)}
EXPOSING = {  # chosen by hand from each bug's description
    "no_dilate": {"h": 7, "w": 7, "sh": 2, "sw": 2},
    "no_remainder": {"sh": 2, "sw": 2},
    "col2im_assign": {},
    "crop_negative": {},
    "height_for_width": {"w": 8},
    "no_flip": {},
}
HIDING = {  # settings under which the wrong line computes the right thing
    "no_dilate": {},
    "no_remainder": {"h": 7, "w": 7, "sh": 2, "sw": 2},
    "col2im_assign": {"sh": 3, "sw": 3},
    "crop_negative": {"pads": (1, 1, 1, 1)},
    "height_for_width": {"h": 7, "w": 7},
}


def setup(overrides: dict, symmetric_kernel: bool = False):
    s = {**BASE, **overrides}
    spec = ConvSpec.create(s["h"], s["w"], (s["kh"], s["kw"]), (s["sh"], s["sw"]), s["pads"], 1, n=2, c=2, f=3)
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal(spec.input_shape), rng.standard_normal(spec.weight_shape)
    if symmetric_kernel:
        w = w + w[:, :, ::-1, ::-1]
    return spec, x, w, rng.standard_normal(spec.output_shape)


def reference_dx(spec, x, w, dout):
    return conv_backward(dout, x, w, spec.stride, spec.padding, spec.dilation)[0]


def test_registry_covers_the_six_issue_bugs():
    assert set(BUGS) == set(EXPOSING)
    for bug in BUGS.values():
        assert bug.wrong != bug.right and bug.why and bug.method in ("loops", "col2im", "transposed")


@pytest.mark.parametrize("bug_id", list(EXPOSING))
def test_exposed_bug_fails_gradient_check_and_differs_from_reference(bug_id):
    spec, x, w, dout = setup(EXPOSING[bug_id])
    assert BUGS[bug_id].exposed(spec, w)
    run = buggy_backward(bug_id, dout, x, w, spec)
    ref = reference_dx(spec, x, w, dout)
    np.testing.assert_allclose(run.dx_ok, ref, atol=1e-9)  # the fix: the same code with the bug off is right
    assert run.dx is None or run.dx.shape != ref.shape or np.abs(run.dx - ref).max() > 1e-3
    assert run.wrong_mask.any()
    check = check_bug(run, x, w, dout, spec)
    assert check.correct.passed
    assert not check.buggy_passed


@pytest.mark.parametrize("bug_id", list(HIDING))
def test_hidden_bug_gives_the_reference_result(bug_id):
    spec, x, w, dout = setup(HIDING[bug_id])
    assert not BUGS[bug_id].exposed(spec, w)
    run = buggy_backward(bug_id, dout, x, w, spec)
    np.testing.assert_allclose(run.dx, reference_dx(spec, x, w, dout), atol=1e-9)
    assert not run.wrong_mask.any()
    assert check_bug(run, x, w, dout, spec).buggy_passed


def test_symmetric_kernel_hides_missing_flip():
    spec, x, w, dout = setup({}, symmetric_kernel=True)
    assert not BUGS["no_flip"].exposed(spec, w)
    run = buggy_backward("no_flip", dout, x, w, spec)
    np.testing.assert_allclose(run.dx, reference_dx(spec, x, w, dout), atol=1e-9)


def test_tall_input_makes_height_for_width_raise_and_it_is_reported():
    spec, x, w, dout = setup({"h": 8, "w": 6})
    run = buggy_backward("height_for_width", dout, x, w, spec)
    assert run.error is not None and "IndexError" in run.error
    assert "raises" in run.outcome
    assert check_bug(run, x, w, dout, spec).buggy is None


def test_sampled_check_still_catches_a_bug_confined_to_a_few_cells():
    # 4x4x32x33 input, wide by one column: only the last column's windows are lost (a few percent of dx)
    spec, x, w, dout = setup({"h": 32, "w": 33})
    run = buggy_backward("height_for_width", dout, x, w, spec)
    assert 0 < run.wrong_mask.mean() < 0.1
    check = check_bug(run, x, w, dout, spec, max_entries=100)
    assert check.correct.passed and not check.buggy_passed
