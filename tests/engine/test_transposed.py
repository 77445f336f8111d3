"""convviz.transposed: TransposedSpec's geometry against the guide's arithmetic (Dumoulin & Visin, "A guide to convolution
arithmetic for deep learning", 2016, chapter 4), the scatter and direct views against conv_transpose2d and against
PyTorch (float64). torch is a hard test dependency: these never skip."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from convviz import ConvSpec, conv_transpose2d
from convviz.transposed import (
    TransposedSpec,
    direct_transposed,
    forward_dout,
    scatter_full,
    scatter_transposed,
    zero_insert_pad,
)

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------------------------------
# the guide's transposed relationships (chapter 4). Each case: the forward convolution (i, k, s, p) of the guide's
# figure, its output o (= the transposed layer's input i'), the transposed layer's output o' from the guide's
# formula, the output padding a, and the padding p' of the guide's equivalent direct convolution (before; after = p' + a).
# Sizes are written out from the formulas by hand, not computed with the code under test.
# ---------------------------------------------------------------------------------------------------
GUIDE = [
    # Relationship 8 (fig. 4.1), no zero padding, unit strides: o' = i' + (k - 1), p' = k - 1.
    # i=4, k=3, s=1, p=0 -> o = 2; i' = 2 -> o' = 2 + 2 = 4, p' = 2.
    pytest.param(dict(i=4, k=3, s=1, p=0, o=2, o_t=4, a=0, p_direct=2), id="rel8-no-padding-unit-strides"),
    # Relationship 9 (fig. 4.2), zero padding, unit strides: o' = i' + (k - 1) - 2p, p' = k - p - 1.
    # i=5, k=4, s=1, p=2 -> o = 5 + 4 - 4 + 1 = 6; i' = 6 -> o' = 6 + 3 - 4 = 5, p' = 4 - 2 - 1 = 1.
    pytest.param(dict(i=5, k=4, s=1, p=2, o=6, o_t=5, a=0, p_direct=1), id="rel9-zero-padding-unit-strides"),
    # Relationship 10 (fig. 4.3), half (same) padding, k = 2n + 1, p = n: o' = i', p' = p.
    # i=5, k=3, s=1, p=1 -> o = 5; i' = 5 -> o' = 5, p' = 1.
    pytest.param(dict(i=5, k=3, s=1, p=1, o=5, o_t=5, a=0, p_direct=1), id="rel10-half-padding"),
    # Relationship 11 (fig. 4.4), full padding p = k - 1: o' = i' - (k - 1), p' = 0.
    # i=5, k=3, s=1, p=2 -> o = 7; i' = 7 -> o' = 7 - 2 = 5, p' = 0.
    pytest.param(dict(i=5, k=3, s=1, p=2, o=7, o_t=5, a=0, p_direct=0), id="rel11-full-padding"),
    # Relationship 12 (fig. 4.5), no zero padding, non-unit strides (i - k a multiple of s): o' = s(i' - 1) + k,
    # s - 1 zeros inserted, p' = k - 1. i=5, k=3, s=2, p=0 -> o = 2; i' = 2 -> o' = 2*1 + 3 = 5, p' = 2.
    pytest.param(dict(i=5, k=3, s=2, p=0, o=2, o_t=5, a=0, p_direct=2), id="rel12-no-padding-non-unit-strides"),
    # Relationship 13 (fig. 4.6), zero padding, non-unit strides (i + 2p - k a multiple of s): o' = s(i' - 1) + k - 2p,
    # p' = k - p - 1. i=5, k=3, s=2, p=1 -> o = 3; i' = 3 -> o' = 2*2 + 3 - 2 = 5, p' = 1.
    pytest.param(dict(i=5, k=3, s=2, p=1, o=3, o_t=5, a=0, p_direct=1), id="rel13-padding-non-unit-strides"),
    # Relationship 14 (fig. 4.7), the odd case: a = (i + 2p - k) mod s, o' = s(i' - 1) + a + k - 2p, p' = k - p - 1 and
    # a more at the bottom/right. i=6, k=3, s=2, p=1 -> o = 3, a = (6 + 2 - 3) mod 2 = 1; i' = 3 -> o' = 4 + 1 + 3 - 2 = 6.
    pytest.param(dict(i=6, k=3, s=2, p=1, o=3, o_t=6, a=1, p_direct=1), id="rel14-odd-output-padding"),
]


@pytest.mark.parametrize("case", GUIDE)
def test_output_size_and_direct_padding_follow_the_guide(case):
    i_t = case["o"]  # the transposed layer's input is the forward convolution's output
    spec = TransposedSpec.create(i_t, i_t, case["k"], case["s"], case["p"], case["a"])
    assert (spec.oh, spec.ow) == (case["o_t"], case["o_t"])
    assert case["o_t"] == case["i"]  # the guide's point: the transposed layer restores the forward input's size
    pd = case["p_direct"]
    assert spec.direct_pads() == (pd, pd + case["a"], pd, pd + case["a"])
    # the forward convolution whose input gradient this is: input o', output i'
    fwd = spec.forward_spec()
    assert (fwd.h, fwd.oh, fwd.rem_h) == (case["i"], i_t, case["a"])
    assert spec.output_size_formula("h").endswith(f"= {case['o_t']}")


def test_the_briefs_two_examples():
    assert TransposedSpec.create(2, 2, 3, 2, 0).oh == 5
    assert TransposedSpec.create(3, 3, 3, 2, 1, 1).oh == 6


def test_output_size_with_dilation_and_rectangular_arguments():
    # o' = S(i'-1) + D(K-1) + 1 - 2p + a: rows 2*(4-1) + 2*(3-1) + 1 - 2*1 + 1 = 10; cols 1*(5-1) + 1*(2-1) + 1 - 0 + 0 = 6
    spec = TransposedSpec.create(4, 5, (3, 2), (2, 1), (1, 0), (1, 0), (2, 1), n=2, cin=3, cout=4)
    assert spec.output_shape == (2, 4, 10, 6)
    assert (spec.full_h, spec.full_w) == (12, 6)
    assert spec.weight_shape == (3, 4, 3, 2)
    fwd = spec.forward_spec()
    assert fwd.input_shape == (2, 4, 10, 6) and fwd.weight_shape == (3, 4, 3, 2) and fwd.output_shape == (2, 3, 4, 5)


# ---------------------------------------------------------------------------------------------------
# the two views equal the engine and PyTorch
# ---------------------------------------------------------------------------------------------------
@st.composite
def transposed_cases(draw, max_hw=6):
    h, w = draw(st.integers(1, max_hw)), draw(st.integers(1, max_hw))
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = (draw(st.integers(0, 4)), draw(st.integers(0, 4)))
    op = (draw(st.integers(0, max(s[0], d[0]) - 1)), draw(st.integers(0, max(s[1], d[1]) - 1)))
    sizes = [(i - 1) * si + di * (ki - 1) + 1 - 2 * pi + oi for i, si, di, ki, pi, oi in zip((h, w), s, d, k, p, op)]
    assume(min(sizes) >= 1)
    n, cin, cout = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    spec = TransposedSpec.create(h, w, k, s, p, op, d, n=n, cin=cin, cout=cout)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return spec, rng.standard_normal(spec.input_shape), rng.standard_normal(spec.weight_shape)


def torch_transposed(x, w, spec):
    return F.conv_transpose2d(torch.tensor(x, dtype=torch.float64), torch.tensor(w, dtype=torch.float64), None,
                              spec.stride, spec.padding, spec.output_padding, 1, spec.dilation).numpy()


@settings(max_examples=150, **SETTINGS)
@given(transposed_cases())
def test_scatter_and_direct_equal_conv_transpose2d_and_torch(case):
    spec, x, w = case
    ref = torch_transposed(x, w, spec)
    engine = conv_transpose2d(x, w, None, spec.stride, spec.padding, spec.output_padding, spec.dilation)
    y_s, counts = scatter_transposed(x, w, spec)
    y_d = direct_transposed(x, w, spec)
    assert ref.shape == spec.output_shape == y_s.shape == y_d.shape
    np.testing.assert_allclose(engine, ref, atol=1e-9)
    np.testing.assert_allclose(y_s, ref, atol=1e-9)
    np.testing.assert_allclose(y_d, ref, atol=1e-9)
    assert counts.shape == (spec.oh, spec.ow)


def brute_counts(spec):
    """Stamps reaching each output cell, by the definition: input cell (i, j) and tap (u, v) land on output cell
    (i*S + u*D - p, j*S + v*D - p)."""
    count = np.zeros((spec.oh, spec.ow), dtype=int)
    for i in range(spec.h):
        for j in range(spec.w):
            for u in range(spec.kh):
                for v in range(spec.kw):
                    r, q = i * spec.sh + u * spec.dh - spec.ph, j * spec.sw + v * spec.dw - spec.pw
                    if 0 <= r < spec.oh and 0 <= q < spec.ow:
                        count[r, q] += 1
    return count


@settings(max_examples=60, **SETTINGS)
@given(transposed_cases())
def test_overlap_counts_equal_a_brute_force_count(case):
    spec, x, w = case
    _, counts = scatter_transposed(x, w, spec)
    np.testing.assert_array_equal(counts, brute_counts(spec))
    # a constant input and an all-ones kernel: the output is the count itself
    y, _ = scatter_transposed(np.ones((spec.h, spec.w)), np.ones(spec.kernel_size), spec)
    np.testing.assert_array_equal(y, counts)


def test_checkerboard_counts_when_k_is_not_a_multiple_of_s():
    # K=3, S=2: away from the border, rows alternate 2, 1, 2, 1 stamps (ceil(3/2), floor(3/2))
    spec = TransposedSpec.create(4, 4, 3, 2)
    _, full_count = scatter_full(np.ones((4, 4)), np.ones((3, 3)), spec)
    assert list(full_count[0, :]) == [1, 1, 2, 1, 2, 1, 2, 1, 1]
    assert full_count[2, 2] == 4 and full_count[2, 3] == 2 and full_count[3, 3] == 1  # the checkerboard
    # K=4, S=2: every interior cell gets 2 x 2 stamps
    _, even = scatter_full(np.ones((4, 4)), np.ones((4, 4)), TransposedSpec.create(4, 4, 4, 2))
    assert (even[2:-2, 2:-2] == 4).all()


def test_one_channel_pair_as_2d_arrays():
    spec = TransposedSpec.create(3, 2, 2, 2, 0, 1)
    x, w = np.arange(6.0).reshape(3, 2), np.array([[1.0, 2.0], [3.0, 4.0]])
    ref = conv_transpose2d(x[None, None], w[None, None], None, 2, 0, 1)[0, 0]
    y, counts = scatter_transposed(x, w, spec)
    np.testing.assert_array_equal(y, ref)
    np.testing.assert_array_equal(direct_transposed(x, w, spec), ref)
    # by hand: x'[0, 0] = 0 stamps nothing, x'[0, 1] = 1 stamps w at (0, 2); row 6 (a = 1) is never reached
    np.testing.assert_array_equal(y[0:2, 2:4], w)
    assert y.shape == (7, 5) and not y[6].any() and not counts[6].any()


# ---------------------------------------------------------------------------------------------------
# why output padding exists
# ---------------------------------------------------------------------------------------------------
@settings(max_examples=100, **SETTINGS)
@given(st.integers(1, 6), st.integers(1, 4), st.integers(1, 4), st.integers(0, 4), st.integers(1, 3))
def test_forward_inputs_mapping_back_is_every_size_the_conv_maps_to_i(i_t, k, s, p, d):
    ek = d * (k - 1) + 1
    assume(s * (i_t - 1) + ek - 2 * p >= 1)  # a = 0 gives a valid transposed layer
    spec = TransposedSpec.create(i_t, i_t, k, s, p, 0, d)
    brute = []
    for o in range(1, s * i_t + ek + 2 * p + 2):
        try:
            fwd = ConvSpec.create(o, o, k, s, p, d)
        except ValueError:
            continue  # no window fits
        if fwd.oh == i_t:
            brute.append(o)
    assert spec.forward_inputs_mapping_back("h") == brute == spec.forward_inputs_mapping_back("w")
    assert len(brute) == s  # S sizes collapse onto one i'; output padding a = 0..S-1 picks which
    for a, o in enumerate(brute):
        assert TransposedSpec.create(i_t, i_t, k, s, p, a, d).oh == o


def test_mapping_back_for_the_guides_odd_case():
    # relationship 14: i = 5 and i = 6 both give o = 3 (k=3, s=2, p=1); a = 0 restores 5, a = 1 restores 6
    spec = TransposedSpec.create(3, 3, 3, 2, 1)
    assert spec.forward_inputs_mapping_back() == [5, 6]


def test_output_padding_beyond_the_stride_pads_dout_with_zeros():
    # S=1 < a=1 < D=2 is allowed (as in PyTorch): the forward conv maps o' back to i' + 1
    spec = TransposedSpec.create(3, 3, 2, 1, 0, 1, 2)
    assert spec.oh == 1 * 2 + 2 * 1 + 1 + 1 == 6
    assert spec.forward_spec().oh == 4
    x = np.ones((1, 1, 3, 3))
    d = forward_dout(x, spec)
    assert d.shape == (1, 1, 4, 4) and d[..., 3, :].sum() == 0 and d[..., :3, :3].sum() == 9
    w = np.random.default_rng(0).standard_normal((1, 1, 2, 2))
    np.testing.assert_allclose(direct_transposed(x, w, spec), torch_transposed(x, w, spec), atol=1e-12)


# ---------------------------------------------------------------------------------------------------
# negative direct padding: p > D(K-1)
# ---------------------------------------------------------------------------------------------------
def test_negative_direct_pads_crop_the_zero_inserted_input():
    # K=2, S=2, p=2: D(K-1) - p = 1 - 2 = -1 on both sides; o' = 2*(4-1) + 1 + 1 - 4 = 4
    spec = TransposedSpec.create(4, 4, 2, 2, 2)
    assert spec.direct_pads() == (-1, -1, -1, -1)
    z = zero_insert_pad(np.arange(16.0).reshape(4, 4), spec)
    assert z.shape == (spec.dilated_h - 2, spec.dilated_w - 2) == (5, 5) == (spec.oh + 1, spec.ow + 1)
    assert z[1, 1] == 5.0  # x'[1, 1] sits at dilated (2, 2), one row and column cropped
    kept, inserted, padding = spec.direct_masks()
    # dilated rows 0..6 hold x' rows at 0, 2, 4, 6; rows 1..5 survive, so x' rows 0 and 3 (and columns) are cropped away:
    # in the scatter view their stamps (full rows 0-1 and 6-7) lie entirely in the cropped border p = 2
    assert not padding.any() and kept.sum() == 4 and inserted.sum() == 21
    assert spec.input_origin() == (-1, -1)
    x, w = np.random.default_rng(1).standard_normal((2, 3, 4, 4)), np.random.default_rng(2).standard_normal((3, 2, 2, 2))
    np.testing.assert_allclose(direct_transposed(x, w, spec), torch_transposed(x, w, spec), atol=1e-12)


def test_mixed_sign_direct_pads():
    # K=2, S=3, p=2, a=2: top = 1 - 2 = -1 (crop), bottom = -1 + 2 = 1 (pad)
    spec = TransposedSpec.create(3, 3, 2, 3, 2, 2)
    assert spec.direct_pads() == (-1, 1, -1, 1)
    assert spec.direct_h == spec.dilated_h == spec.oh + 1
    _, _, padding = spec.direct_masks()
    assert padding[-1].all() and not padding[:-1, :-1].any()
    x, w = np.random.default_rng(3).standard_normal((1, 2, 3, 3)), np.random.default_rng(4).standard_normal((2, 2, 2, 2))
    np.testing.assert_allclose(direct_transposed(x, w, spec), torch_transposed(x, w, spec), atol=1e-12)


def test_masks_of_the_scatter_grid():
    spec = TransposedSpec.create(3, 3, 3, 2, 1, 1)  # full grid 2*2 + 3 + 1 = 8, output 6
    crop = spec.crop_mask()
    assert crop.shape == (8, 8) and (~crop).sum() == 36 and crop[0].all() and crop[-1].all()
    appended = spec.appended_mask()
    assert appended[7].all() and appended[:, 7].all() and not appended[:7, :7].any()
    assert spec.stamp_mask(1, 2).sum() == 9 and spec.stamp_origin(1, 2) == (2, 4)


# ---------------------------------------------------------------------------------------------------
# errors name the fix
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    (dict(h=3, w=3, kernel_size=3, stride=2, output_padding=2),
     r"output_padding \(height\): must be smaller than the stride \(2\) or the dilation \(1\), got 2\. Use at most 1"),
    (dict(h=3, w=3, kernel_size=3, stride=1, output_padding=(0, 1)), r"output_padding \(width\).*Use at most 0"),
    (dict(h=1, w=1, kernel_size=1, padding=1), r"padding \(height\): the output would have -1 rows.*Crop less: use padding at most 0"),
    (dict(h=3, w=2, kernel_size=2, padding=(0, 2)), r"padding \(width\): the output would have -1 columns"),
    (dict(h=3, w=3, kernel_size=3, padding="same"), r"no 'valid'/'same'/'full' modes"),
    (dict(h=3, w=3, kernel_size=3, padding=(1, 1, 1, 1)), r"crops the same amount from both sides"),
    (dict(h=3, w=3, kernel_size=3, padding=-1), r"padding \(height\): must be at least 0"),
    (dict(h=3, w=3, kernel_size=0), r"kernel_size \(height\): must be at least 1"),
    (dict(h=3, w=3, kernel_size=3, stride=256), r"stride \(height\): must be at most 255 \(the engine's cap\)"),
    (dict(h=0, w=3, kernel_size=3), r"h \(input height i'\): must be at least 1"),
    (dict(h=3, w=3, kernel_size=3, cin=0), r"cin \(input channels\): must be at least 1"),
    (dict(h=3, w=3, kernel_size=3, stride=1.5), r"stride: expected a whole number"),
    (dict(h=4000, w=3, kernel_size=3, stride=2), r"output size: the output would have 8001 rows.*cap 4096"),
])
def test_errors_name_the_fix(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TransposedSpec.create(**kwargs)


def test_array_shape_errors():
    spec = TransposedSpec.create(3, 3, 2)
    with pytest.raises(ValueError, match=r"the spec is for a 3x3 input and a 2x2 kernel"):
        scatter_transposed(np.ones((4, 4)), np.ones((2, 2)), spec)
    with pytest.raises(ValueError, match=r"layout is \(CIN, COUT, KH, KW\)"):
        direct_transposed(np.ones((1, 2, 3, 3)), np.ones((3, 1, 2, 2)), spec)
    with pytest.raises(ValueError, match=r"one channel pair \(H, W\) and \(KH, KW\)"):
        direct_transposed(np.ones((3, 3)), np.ones((1, 1, 2, 2)), spec)


def test_spec_is_frozen():
    spec = TransposedSpec.create(3, 3, 3)
    with pytest.raises(AttributeError):
        spec.h = 4  # type: ignore[misc]
