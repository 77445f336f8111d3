"""Geometry rules from docs/teaching.md, Shapes and edge cases, and plain ValueErrors that name the parameter."""
import subprocess
import sys

import numpy as np
import pytest

import convviz as cv
from convviz.geometry import ConvSpec


@pytest.mark.parametrize("h, k, s, p, oh, rem", [
    (7, 3, 2, 0, 3, 0),   # floor((7 - 3)/2) + 1 = 3, (7 - 3) mod 2 = 0
    (8, 3, 2, 0, 3, 1),   # one more row gives the same output and one uncovered row
    (5, 3, 1, 1, 5, 0),
    (6, 4, 3, 0, 1, 2),   # (6 - 4) mod 3 = 2 rows uncovered
])
def test_output_size_and_remainder(h, k, s, p, oh, rem):
    spec = ConvSpec.create(h, h, k, s, p)
    assert (spec.oh, spec.rem_h) == (oh, rem)
    assert spec.output_size_formula("h") == f"OH = floor(({h} + {p} + {p} - {k}) / {s}) + 1 = {oh}"


def test_coverage_zero_exactly_on_uncovered_cells():
    spec = ConvSpec.create(8, 7, 3, 2)  # rem_h = 1, rem_w = 0
    cover = spec.coverage()
    assert (cover[7] == 0).all() and (cover[:7] > 0).all()
    spec = ConvSpec.create(7, 7, 2, 1, 0, 3)  # dilation 3 > stride: still every cell covered here
    assert spec.coverage().min() >= 1


def _rows_no_tap_reads(size: int, k: int, s: int, d: int) -> list[int]:
    """Padded rows that no tap of any window reads, by listing every tap (i*s + u*d) of every window."""
    outs = (size - (d * (k - 1) + 1)) // s + 1
    read = {i * s + u * d for i in range(outs) for u in range(k)}
    return [p for p in range(size) if p not in read]


@pytest.mark.parametrize("h, k, s, p, d", [
    (6, 1, 2, 0, 1),    # a 1 x 1 kernel at stride 2 (ResNet's shortcut): every other row, plus the remainder
    (7, 2, 2, 1, 2),    # stride = dilation = 2: odd padded rows, inside the windows too
    (9, 2, 4, 0, 1),    # stride 4 > kernel 2: two rows between windows, and a remainder of 3
    (8, 3, 2, 0, 1),    # remainder only
    (7, 2, 1, 0, 3),    # dilation 3 > stride 1: nothing skipped
    (10, 3, 3, 1, 2),
])
def test_skipped_rows_are_the_unread_rows_before_the_remainder(h, k, s, p, d):
    spec = ConvSpec.create(h, h + 1, (k, 1), (s, 1), p, (d, 1))
    unread = _rows_no_tap_reads(spec.hp, k, s, d)
    assert list(spec.skipped("h")) == [r for r in unread if r < spec.hp - spec.rem_h]
    assert unread[len(unread) - spec.rem_h:] == list(range(spec.hp - spec.rem_h, spec.hp))  # the remainder: the last r
    zero_rows = np.flatnonzero((spec.coverage() == 0).all(axis=1)).tolist()
    assert zero_rows == unread  # coverage agrees: exactly those rows get no window
    assert spec.skipped("w") == ()  # the width axis here: kernel 1, stride 1


def test_skipped_columns_use_the_width_parameters():
    spec = ConvSpec.create(5, 9, (1, 2), (1, 4), 0, (1, 1))  # widths: 9, kernel 2, stride 4 -> columns 2, 3 skipped
    assert spec.skipped("w") == (2, 3) and spec.rem_w == 3 and spec.skipped("h") == ()


def test_padding_modes():
    # same (TensorFlow rule) with an even kernel: total 1, the odd extra goes bottom/right
    assert ConvSpec.create(5, 5, 2, 1, "same").padding == (0, 1, 0, 1)
    # same with stride 2: H = 7, ceil(7/2) = 4 outputs, total = (4 - 1)*2 + 3 - 7 = 2
    spec = ConvSpec.create(7, 7, 3, 2, "same")
    assert spec.padding == (1, 1, 1, 1) and spec.oh == 4
    # full: EK - 1 on every side (dilation 2, kernel 3 -> EK = 5)
    assert ConvSpec.create(4, 4, 3, 1, "full", 2).padding == (4, 4, 4, 4)
    assert ConvSpec.create(4, 4, 3, 1, "valid").padding == (0, 0, 0, 0)
    assert ConvSpec.create(4, 4, 3, 1, (1, 2)).padding == (1, 1, 2, 2)


def test_params_and_macs():
    spec = ConvSpec.create(6, 6, 3, n=2, c=3, f=4)  # OH = OW = 4
    assert spec.params == 4 * 3 * 3 * 3 + 4
    assert spec.macs == 2 * 4 * 4 * 4 * 3 * 3 * 3


@pytest.mark.parametrize("call, match", [
    (lambda: ConvSpec.create(5, 5, 3, 0), r"stride \(height\)"),
    (lambda: ConvSpec.create(5, 5, 3, (1, 0)), r"stride \(width\)"),
    (lambda: ConvSpec.create(5, 5, 3, 1, -1), r"padding \(top\).*negative"),
    (lambda: ConvSpec.create(5, 5, 3, 1, 0, 0), r"dilation \(height\)"),
    (lambda: ConvSpec.create(2, 9, 3), r"kernel_size \(height\).*larger than the padded input height"),
    (lambda: ConvSpec.create(9, 2, 3), r"kernel_size \(width\).*larger than the padded input width"),
    (lambda: ConvSpec.create(9, 5, (1, 3), 1, 0, (1, 3)), r"kernel_size \(width\).*dilation 3"),
    (lambda: ConvSpec.create(5, 5, 3, 1, "sam"), r"padding: unknown mode"),
    (lambda: ConvSpec.create(5, 5, 3, 2.5), r"stride: expected a whole number"),
    (lambda: ConvSpec.create(5, 5, True), r"kernel_size: expected a whole number"),
    (lambda: ConvSpec.create(5000, 5, 3), r"h \(input height\).*cap"),
    (lambda: cv.conv2d(np.zeros((1, 2, 5, 5)), np.zeros((1, 3, 3, 3))), r"w: has 3 input channels but x has 2"),
    (lambda: cv.conv2d(np.zeros((5, 5)), np.zeros((1, 1, 3, 3))), r"x: expected a 4-D array"),
    (lambda: cv.conv2d(np.zeros((1, 1, 5, 5)), np.zeros((2, 1, 3, 3)), np.zeros(3)), r"b: expected shape \(2,\)"),
    (lambda: cv.conv2d_backward(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 3, 3))), r"dout: expected"),
    (lambda: cv.conv2d(np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 3, 3)), method="fft"), r"method: unknown method"),
    (lambda: cv.max_pool2d(np.zeros((1, 1, 5, 5)), 2, 2, 2), r"padding \(height\): must be at most half"),
    (lambda: cv.max_pool2d(np.zeros((1, 1, 1, 5)), (2, 1), 1, (1, 0), (2, 1)), r"padding \(height\).*only padding"),
    (lambda: cv.conv_transpose2d(np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 3, 3)), stride=2, output_padding=2),
     r"output_padding \(height\)"),
    (lambda: cv.col2im(np.zeros((1, 9, 5)), (4, 4), 3), r"cols: expected shape"),
])
def test_bad_input_names_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_error_message_suggests_a_fix():
    with pytest.raises(ValueError) as err:
        ConvSpec.create(3, 3, 5)
    assert "add 2 more padding" in str(err.value) and "padding='full'" in str(err.value)


def test_import_convviz_loads_neither_plotly_nor_streamlit():
    code = "import sys, convviz; print(sorted(m for m in ('plotly', 'streamlit') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
