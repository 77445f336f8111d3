"""The grouped / depthwise lesson's engine (convviz/grouped.py): the connection matrix against its definition, the
depthwise-separable block against PyTorch (float64), and the cost comparison against PyTorch's parameter counts and
multiply-adds counted from the definition.

Worked by hand (C = 8 input channels, F = 16 output channels, 3×3 kernels, a 32×32 input, padding 1, so OH = OW = 32):
    ordinary   params F·C·KH·KW + F = 16·8·9 + 16 = 1152 + 16 = 1,168
               MACs   N·F·OH·OW·C·KH·KW = 16·1024·72 = 1,179,648
    g = 2      params 16·4·9 + 16 = 592;   MACs 16·1024·36 = 589,824 (half)
    g = 4      params 16·2·9 + 16 = 304;   MACs 16·1024·18 = 294,912 (a quarter)
    separable  depthwise 8·9 + 8 = 80 params, 8·1024·9 = 73,728 MACs;
               pointwise 16·8 + 16 = 144 params, 16·1024·8 = 131,072 MACs;
               total 224 params, 204,800 MACs.
    MobileNet's ratio: 204,800 / 1,179,648 = 25/144 = 1/16 + 1/9 = 1/F + 1/K².
"""
from fractions import Fraction

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as TF
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convviz.conv import conv2d
from convviz.geometry import ConvSpec
from convviz.grouped import BlockCost, compare_blocks, connection_matrix, layer_costs, separable_block

SETTINGS = dict(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])


def divisors(c, f):
    return [g for g in range(1, min(c, f) + 1) if c % g == 0 and f % g == 0]


# ---------------------------------------------------------------------------------------------------
# the connection matrix
# ---------------------------------------------------------------------------------------------------
def reads_by_torch(c, f, g):
    """(F, C): 1 where output channel f changes when input channel c does, found by PyTorch's grouped convolution
    of a one-hot input with all-ones 1×1 kernels (the definition of 'reads', independent of convviz)."""
    out = np.zeros((f, c), dtype=int)
    w = torch.ones(f, c // g, 1, 1, dtype=torch.float64)
    for k in range(c):
        x = torch.zeros(1, c, 1, 1, dtype=torch.float64)
        x[0, k] = 1.0
        out[:, k] = (TF.conv2d(x, w, groups=g)[0, :, 0, 0] != 0).numpy()
    return out


@pytest.mark.parametrize("c", range(1, 9))
@pytest.mark.parametrize("f", range(1, 9))
def test_connection_matrix_is_who_reads_whom(c, f):
    for g in divisors(c, f):
        conn = connection_matrix(c, f, g)
        assert conn.shape == (f, c) and np.issubdtype(conn.dtype, np.integer)
        np.testing.assert_array_equal(conn, reads_by_torch(c, f, g))
        # brute force from the rule: f's group f // (F/g) equals c's group c // (C/g)
        brute = np.array([[int(fi // (f // g) == ci // (c // g)) for ci in range(c)] for fi in range(f)])
        np.testing.assert_array_equal(conn, brute)
        assert (conn.sum(axis=1) == c // g).all() and (conn.sum(axis=0) == f // g).all()


def test_connection_matrix_by_hand():
    # C = 4, F = 6, g = 2: outputs 0..2 read inputs 0..1, outputs 3..5 read inputs 2..3
    np.testing.assert_array_equal(connection_matrix(4, 6, 2), [[1, 1, 0, 0]] * 3 + [[0, 0, 1, 1]] * 3)
    np.testing.assert_array_equal(connection_matrix(3, 3, 3), np.eye(3, dtype=int))  # depthwise: the identity
    np.testing.assert_array_equal(connection_matrix(3, 2, 1), np.ones((2, 3), dtype=int))  # ordinary: all ones


def test_connection_matrix_rejects_groups_that_do_not_divide():
    with pytest.raises(ValueError, match="1, 2 or 4"):
        connection_matrix(8, 12, 3)


# ---------------------------------------------------------------------------------------------------
# the depthwise-separable block
# ---------------------------------------------------------------------------------------------------
def torch_separable(x, wd, wp, bd, bp, stride, padding, dilation):
    """Depthwise then pointwise with PyTorch, float64."""
    t = lambda a: None if a is None else torch.from_numpy(np.asarray(a, dtype=np.float64))  # noqa: E731
    z = TF.conv2d(t(x), t(wd), t(bd), stride, padding, dilation, groups=x.shape[1])
    return TF.conv2d(z, t(wp), t(bp)).numpy()


CASES = [
    # n, c, m, f, h, w, kernel, stride, padding, dilation, bias
    (1, 1, 1, 1, 3, 3, 3, 1, 0, 1, True),
    (2, 3, 1, 5, 6, 7, 3, 1, 1, 1, True),
    (1, 4, 2, 3, 8, 8, (3, 2), (2, 1), (1, 0), (1, 2), True),
    (2, 2, 3, 4, 5, 9, 2, 2, 0, 1, False),
    (1, 8, 1, 16, 9, 9, 3, 1, 1, 2, True),
    (1, 3, 1, 2, 4, 4, 1, 1, 0, 1, True),
]


@pytest.mark.parametrize("method", ["loops", "im2col", "strided"])
@pytest.mark.parametrize("seed, case", list(enumerate(CASES)))
def test_separable_block_matches_torch(seed, case, method):
    n, c, m, f, h, w, k, s, p, d, bias = case
    rng = np.random.default_rng(seed)
    kh, kw = (k, k) if isinstance(k, int) else k
    x = rng.normal(size=(n, c, h, w))
    wd, wp = rng.normal(size=(c * m, 1, kh, kw)), rng.normal(size=(f, c * m, 1, 1))
    bd, bp = (rng.normal(size=c * m), rng.normal(size=f)) if bias else (None, None)
    y = separable_block(x, wd, wp, bd, bp, s, p, d, method=method)
    want = torch_separable(x, wd, wp, bd, bp, s, p, d)
    assert y.shape == want.shape
    np.testing.assert_allclose(y, want, atol=1e-10, rtol=1e-10)


@settings(**SETTINGS)
@given(st.data())
def test_separable_block_matches_torch_property(data):
    n, c, m, f = (data.draw(st.integers(1, v)) for v in (2, 4, 3, 5))
    kh, kw, sh, sw, dh, dw = (data.draw(st.integers(1, 3)) for _ in range(6))
    ph, pw = data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))
    h = data.draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 8))
    w = data.draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 8))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    x = rng.normal(size=(n, c, h, w))
    wd, wp = rng.normal(size=(c * m, 1, kh, kw)), rng.normal(size=(f, c * m, 1, 1))
    bd, bp = (rng.normal(size=c * m), rng.normal(size=f)) if data.draw(st.booleans()) else (None, None)
    y = separable_block(x, wd, wp, bd, bp, (sh, sw), (ph, pw), (dh, dw))
    np.testing.assert_allclose(y, torch_separable(x, wd, wp, bd, bp, (sh, sw), (ph, pw), (dh, dw)), atol=1e-10)
    # and it has the shape of one ordinary convolution with the same settings
    assert y.shape == conv2d(x, rng.normal(size=(f, c, kh, kw)), None, (sh, sw), (ph, pw), (dh, dw)).shape


def test_separable_block_by_hand():
    # one channel, M = 1: depthwise [[1, 2], [3, 4]] on x = [[1, 0, 2], [0, 1, 0], [3, 0, 1]] (valid, 2×2 output):
    #   z = [[1*1 + 2*0 + 3*0 + 4*1, 1*0 + 2*2 + 3*1 + 4*0], [1*0 + 2*1 + 3*3 + 4*0, 1*1 + 2*0 + 3*0 + 4*1]] = [[5, 7], [11, 5]]
    # then pointwise to F = 2 with weights (2, -1) and biases (1, 0): y[0] = 2z + 1, y[1] = -z.
    x = np.array([[[[1, 0, 2], [0, 1, 0], [3, 0, 1]]]], dtype=float)
    wd = np.array([[[[1, 2], [3, 4]]]], dtype=float)
    wp = np.array([2.0, -1.0]).reshape(2, 1, 1, 1)
    y = separable_block(x, wd, wp, None, np.array([1.0, 0.0]))
    np.testing.assert_array_equal(y[0, 0], [[11, 15], [23, 11]])
    np.testing.assert_array_equal(y[0, 1], [[-5, -7], [-11, -5]])


@pytest.mark.parametrize("wd_shape, wp_shape, match", [
    ((3, 2, 3, 3), (4, 3, 1, 1), "w_depthwise"),  # two input channels per kernel: not depthwise
    ((5, 1, 3, 3), (4, 5, 1, 1), "w_depthwise"),  # 5 kernels for 3 channels: not a multiple
    ((3, 1, 3, 3), (4, 3, 3, 3), "w_pointwise"),  # a 3×3 pointwise kernel
    ((6, 1, 3, 3), (4, 3, 1, 1), "w_pointwise"),  # M = 2 makes 6 channels, the pointwise reads 3
])
def test_separable_block_names_the_wrong_weight(wd_shape, wp_shape, match):
    with pytest.raises(ValueError, match=match):
        separable_block(np.zeros((1, 3, 5, 5)), np.zeros(wd_shape), np.zeros(wp_shape))


# ---------------------------------------------------------------------------------------------------
# the costs
# ---------------------------------------------------------------------------------------------------
def numel(module):
    return sum(p.numel() for p in module.parameters())


COST_CASES = [
    # n, c, f, h, w, kernel, stride, padding, dilation, groups
    (1, 8, 16, 32, 32, 3, 1, 1, 1, 2),
    (1, 8, 16, 32, 32, 3, 1, 1, 1, 4),
    (1, 8, 16, 32, 32, 3, 1, 1, 1, 8),
    (2, 6, 9, 11, 7, (3, 5), (2, 1), (1, 2), (1, 2), 3),
    (3, 4, 4, 5, 5, 1, 1, 0, 1, 1),
    (1, 12, 12, 10, 10, 5, 2, 2, 1, 12),
    (1, 1, 3, 6, 6, 3, 1, 0, 2, 1),
]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("case", COST_CASES)
def test_compare_blocks_against_torch_modules_and_the_definition(case, bias):
    n, c, f, h, w, k, s, p, d, g = case
    cmp = compare_blocks(n, c, f, h, w, k, s, p, d, g, bias=bias)
    ordinary = nn.Conv2d(c, f, k, s, p, d, bias=bias).double()
    grouped = nn.Conv2d(c, f, k, s, p, d, groups=g, bias=bias).double()
    depthwise = nn.Conv2d(c, c, k, s, p, d, groups=c, bias=bias).double()
    pointwise = nn.Conv2d(c, f, 1, bias=bias).double()
    separable = nn.Sequential(depthwise, pointwise)
    x = torch.zeros(n, c, h, w, dtype=torch.float64)
    y_ord, y_grp, z = ordinary(x), grouped(x), depthwise(x)
    y_sep = pointwise(z)
    kh, kw = ordinary.kernel_size
    # MACs from the definition: every output number is a dot product of (in channels per kernel)·KH·KW terms
    want = {
        "ordinary": (numel(ordinary), y_ord.numel() * c * kh * kw, tuple(y_ord.shape)),
        "grouped": (numel(grouped), y_grp.numel() * (c // g) * kh * kw, tuple(y_grp.shape)),
        "separable": (numel(separable), z.numel() * 1 * kh * kw + y_sep.numel() * c, tuple(y_sep.shape)),
    }
    for name, (params, macs, shape) in want.items():
        got = getattr(cmp, name)
        assert isinstance(got, BlockCost)
        assert (got.params, got.macs, got.output_shape) == (params, macs, shape), name
        assert got.biases_counted is bias
        assert got.params_text.endswith(f"= {params:,}") and got.macs_text.endswith(f"= {macs:,}")
    assert cmp.same_output_shape
    assert cmp.separable.biases == ((c + f) if bias else 0)
    # MobileNet's ratio, exactly (N, OH, OW cancel): (C·K² + C·F) / (C·F·K²) = 1/F + 1/K²
    assert Fraction(cmp.separable.macs, cmp.ordinary.macs) == Fraction(1, f) + Fraction(1, kh * kw)
    assert Fraction(cmp.grouped.macs, cmp.ordinary.macs) == Fraction(1, g)


def test_the_worked_example():
    cmp = compare_blocks(1, 8, 16, 32, 32, 3, padding=1, groups=2)
    assert [(b.params, b.macs) for b in cmp.blocks] == [(1168, 1_179_648), (592, 589_824), (224, 204_800)]
    assert {b.output_shape for b in cmp.blocks} == {(1, 16, 32, 32)}
    assert cmp.ordinary.params_formula == "F·C·KH·KW + F"
    assert cmp.grouped.params_formula == "F·(C/g)·KH·KW + F"
    assert cmp.grouped.params_text == "16·(8/2)·3·3 + 16 = 592"
    assert cmp.separable.params_formula == "(C·KH·KW + C) + (F·C + F)"
    assert cmp.separable.macs_text == "1·8·32·32·3·3 + 1·16·32·32·8 = 73,728 + 131,072 = 204,800"
    assert cmp.ratios("macs") == pytest.approx((1.0, 0.5, 25 / 144))
    notes = " ".join(cmp.notes())
    assert "1/16 + 1/9 = 0.1736" in notes and "include the biases" in notes and "(1, 16, 32, 32)" in notes
    rows = cmp.rows()
    assert rows[0][0] == "block" and len(rows) == 4 and rows[3][0] == "depthwise-separable"
    no_bias = compare_blocks(1, 8, 16, 32, 32, 3, padding=1, groups=2, bias=False)
    assert [b.params for b in no_bias.blocks] == [1152, 576, 200]
    assert no_bias.grouped.params_formula == "F·(C/g)·KH·KW" and "weights only" in " ".join(no_bias.notes())


def test_layer_costs_agree_with_the_spec_and_name_the_kind():
    for g, name in ((1, "ordinary"), (2, "grouped (g = 2)"), (4, "depthwise")):
        spec = ConvSpec.create(7, 5, 3, 2, 1, n=2, c=4, f=8, groups=g)
        cost = layer_costs(spec)
        assert (cost.params, cost.macs, cost.output_shape, cost.name) == (spec.params, spec.macs, spec.output_shape, name)
        assert cost.weights == 8 * (4 // g) * 9 and cost.biases == 8


def test_compare_blocks_rejects_groups_that_do_not_divide():
    with pytest.raises(ValueError, match="groups"):
        compare_blocks(1, 8, 12, 8, 8, 3, groups=3)
