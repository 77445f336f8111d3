"""convviz.timing: every method runs and agrees with an independent reference; loops are skipped over budget."""
import numpy as np
import pytest

from convviz.conv import conv2d_backward_spec, conv2d_spec
from convviz.geometry import ConvSpec
from convviz.timing import (
    MAX_COLUMN_BYTES,
    MAX_MACS,
    TORCH,
    budget_problems,
    make_data,
    time_methods,
    torch_version,
    work_of,
)
from tests import reference as ref

SPEC = ConvSpec.create(7, 6, (3, 2), (2, 1), (1, 0, 2, 1), (1, 2), n=2, c=2, f=3)


def test_every_method_is_timed_and_agrees_with_the_loop_reference():
    fractions = []
    report = time_methods(SPEC, seed=1, progress=lambda frac, text: fractions.append(frac))
    methods = {(t.pass_name, t.method) for t in report.timings}
    assert {("forward", m) for m in ("loops", "im2col", "strided")} <= methods
    assert {("backward", m) for m in ("loops", "col2im", "transposed")} <= methods
    assert ((("forward", TORCH) in methods) == (torch_version() is not None))
    assert all(t.seconds is not None and t.seconds > 0 and t.runs >= 1 for t in report.timings)
    assert report.reference_of("forward") == "loops" and report.reference_of("backward") == "loops"
    assert all(t.max_diff is not None and t.max_diff < 1e-10 for t in report.timings)
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_the_reported_agreement_is_real_against_the_independent_reference():
    """The loops (this pass's reference) equal the plain-loop reference of tests/reference.py, so a method's
    max |diff| is its distance from the definition."""
    x, w, b, dout = make_data(SPEC, seed=1)
    y = ref.conv_forward(x, w, b, SPEC.stride, SPEC.padding, SPEC.dilation)
    dx, dw, db = ref.conv_backward(dout, x, w, SPEC.stride, SPEC.padding, SPEC.dilation)
    np.testing.assert_allclose(conv2d_spec(x, w, b, SPEC, "loops"), y, atol=1e-12)
    for got, want in zip(conv2d_backward_spec(dout, x, w, SPEC, "loops"), (dx, dw, db)):
        np.testing.assert_allclose(got, want, atol=1e-12)


def test_loops_over_the_budget_are_skipped_and_the_fast_method_becomes_the_reference():
    report = time_methods(SPEC, include_torch=False, loop_budget=0.0)
    loops = [t for t in report.timings if t.method == "loops"]
    assert len(loops) == 2 and all(t.seconds is None and t.note.startswith("skipped") for t in loops)
    assert "projected" in loops[0].note
    assert report.reference_of("forward") == "im2col" and report.reference_of("backward") == "col2im"
    assert all(t.method != TORCH for t in report.timings)
    assert report.fastest("forward").method in ("im2col", "strided")


def test_budget_by_hand():
    small = ConvSpec.create(32, 32, 3, padding=1, n=2, c=8, f=8)
    work = work_of(small)
    assert work.macs == 2 * 8 * 32 * 32 * 8 * 9  # N*F*OH*OW*C*KH*KW
    assert work.column_bytes == 8 * (8 * 9) * (2 * 32 * 32)  # float64 (C*KH*KW, N*OH*OW)
    assert budget_problems(small) == []
    huge = ConvSpec.create(128, 128, 7, padding=3, n=8, c=32, f=32)
    problems = budget_problems(huge)
    assert work_of(huge).macs > MAX_MACS and work_of(huge).column_bytes > MAX_COLUMN_BYTES and len(problems) == 2
    with pytest.raises(ValueError, match="size:"):
        time_methods(huge)
