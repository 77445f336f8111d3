"""convviz.network: the text grammar, plan(), forward/backward through a stack, receptive fields and reach.

Every expected value comes from somewhere other than convviz: a hand computation written out in the test, PyTorch
(CPU, float64; a hard test dependency, so nothing here skips), central differences, or a closed form such as the
number of paths through a stack of all-ones convolutions.
"""
import re

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from convviz.network import (
    MAX_LAYERS,
    Field,
    Layer,
    NetError,
    backward,
    forward,
    group_channels,
    init_params,
    net_text,
    never_read,
    one_hot,
    parameters,
    parse_layer,
    parse_net,
    path_channels,
    path_counts,
    plan,
    reach,
    receptive_field,
)

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
RELU = Layer("relu")


# ---------------------------------------------------------------------------------------------------
# strategies
# ---------------------------------------------------------------------------------------------------
@st.composite
def conv_layers(draw, max_k=7, max_s=4, max_p=8, max_d=4, max_f=8, groups=tuple(range(1, 9))):
    """A convolution as the grammar allows it (by default the full ranges: k 1..7, s 1..4, p 0..8, d 1..4, f, g);
    max_f None: f left out (as many output channels as input)."""
    return Layer("conv", draw(st.integers(1, max_k)), draw(st.integers(1, max_s)), draw(st.integers(0, max_p)),
                 draw(st.integers(1, max_d)), draw(st.none() | st.integers(1, max_f)) if max_f else None,
                 draw(st.sampled_from(groups)))


@st.composite
def pool_layers(draw, kinds=("max", "avg"), max_k=7, max_s=4):
    """Max or average pooling: K x K window, any stride, padding at most K // 2 (PyTorch's rule)."""
    kind, k = draw(st.sampled_from(kinds)), draw(st.integers(1, max_k))
    return Layer(kind, k, draw(st.integers(1, max_s)), draw(st.integers(0, k // 2)))


def stacks(layer):
    return st.lists(layer, min_size=1, max_size=MAX_LAYERS).map(tuple)


GRAMMAR_LAYER = st.one_of(conv_layers(), pool_layers(), st.just(RELU))
# smaller ranges for the numeric tests, so that most random stacks fit a 12 x 12 input; groups mostly 1
ORACLE_LAYER = st.one_of(conv_layers(5, 3, 3, 3, 4, (1, 1, 1, 2, 3)), pool_layers(max_k=4, max_s=3), st.just(RELU))
NO_MAX_LAYER = st.one_of(conv_layers(5, 3, 3, 3, 4, (1, 1, 1, 2, 3)), pool_layers(("avg",), 4, 3), st.just(RELU))
SHAPES = st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 12), st.integers(1, 12))


def planned_or_none(layers, shape):
    try:
        return plan(layers, shape)
    except NetError:
        return None


def random_params(planned, rng, low=None, high=None):
    """Weights and biases of every convolution, normal (or uniform in [low, high)), of PyTorch's shapes
    (F, C / G, K, K) and (F,), computed here from the layer and its input channels, not from convviz."""
    out = []
    for p in planned:
        L = p.layer
        if L.kind != "conv":
            out.append(None)
            continue
        c = p.in_shape[1]
        f = c if L.f is None else L.f
        shape = (f, c // L.g, L.k, L.k)
        if low is None:
            out.append((rng.standard_normal(shape), rng.standard_normal(f)))
        else:
            out.append((rng.uniform(low, high, shape), rng.uniform(low, high, f)))
    return tuple(out)


def assert_close(got, want, rtol=1e-9, what=""):
    """Relative agreement, with an absolute floor scaled by the largest expected value (cancellation near 0)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (what, got.shape, want.shape)
    scale = max(1.0, float(np.abs(want).max(initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale, err_msg=what)


# ---------------------------------------------------------------------------------------------------
# PyTorch, built from the layer fields alone
# ---------------------------------------------------------------------------------------------------
def torch_layer(layer, c):
    """(module, output channels) for one layer on c input channels."""
    if layer.kind == "conv":
        f = c if layer.f is None else layer.f
        return torch.nn.Conv2d(c, f, layer.k, layer.s, layer.p, layer.d, groups=layer.g, dtype=torch.float64), f
    if layer.kind == "relu":
        return torch.nn.ReLU(), c
    if layer.kind == "max":
        return torch.nn.MaxPool2d(layer.k, layer.s, layer.p), c
    assert layer.kind == "avg"
    return torch.nn.AvgPool2d(layer.k, layer.s, layer.p, count_include_pad=True), c


def torch_shapes(layers, shape):
    """(shapes of a_0..a_L, parameter count), or (1-based index of the first layer PyTorch cannot build or run, or
    that gives an empty map, None)."""
    c, a, shapes, count = shape[1], torch.zeros(shape, dtype=torch.float64), [tuple(shape)], 0
    for i, layer in enumerate(layers, 1):
        try:
            m, c = torch_layer(layer, c)
            with torch.no_grad():
                a = m(a)
        except (RuntimeError, ValueError):
            return i, None
        if a.numel() == 0:
            return i, None
        shapes.append(tuple(a.shape))
        count += sum(q.numel() for q in m.parameters())
    return tuple(shapes), count


def torch_forward_backward(layers, x, params, dout):
    """PyTorch's activations a_0..a_L, dL/da_l for each (retain_grad) and every convolution's (dw, db)."""
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    acts, modules, c = [xt], [], x.shape[1]
    for layer, prm in zip(layers, params):
        m, c = torch_layer(layer, c)
        if layer.kind == "conv":
            assert prm[0].shape == tuple(m.weight.shape) and prm[1].shape == tuple(m.bias.shape)
            with torch.no_grad():
                m.weight.copy_(torch.from_numpy(prm[0]))
                m.bias.copy_(torch.from_numpy(prm[1]))
        else:
            assert prm is None
        a = m(acts[-1])
        a.retain_grad()
        acts.append(a)
        modules.append(m)
    acts[-1].backward(torch.from_numpy(np.asarray(dout, dtype=np.float64)))
    values = [a.detach().numpy() for a in acts]
    grads = [a.grad.numpy() for a in acts]
    dws = [(m.weight.grad.numpy(), m.bias.grad.numpy()) if isinstance(m, torch.nn.Conv2d) else None for m in modules]
    return values, grads, dws


# ---------------------------------------------------------------------------------------------------
# 1. grammar
# ---------------------------------------------------------------------------------------------------
@settings(max_examples=300, **SETTINGS)
@given(stacks(GRAMMAR_LAYER))
def test_net_text_round_trips(layers):
    """parse_net(net_text(layers)) gives the layers back; fails if a token drops or misprints a field or a default."""
    text = net_text(layers)
    assert parse_net(text) == layers
    assert text == ",".join(L.token for L in layers)
    for L in layers:
        assert parse_layer(L.token) == L


@settings(max_examples=100, **SETTINGS)
@given(stacks(GRAMMAR_LAYER), st.data())
def test_parsing_ignores_case_and_spaces(layers, data):
    """Upper case and spaces anywhere give the same layers; fails if parsing is case- or space-sensitive."""
    text = net_text(layers)
    noisy = "".join(ch.upper() if data.draw(st.booleans()) else ch for ch in text)
    noisy = "".join(ch + " " * data.draw(st.integers(0, 2)) for ch in noisy)
    assert parse_net(" " + noisy) == layers


@pytest.mark.parametrize("text, expected", [
    ("c3", (Layer("conv", 3, 1, 0, 1, None, 1),)),  # convolution: stride 1 by default
    ("max2", (Layer("max", 2, 2, 0, 1, None, 1),)),  # pooling: stride = window by default
    ("avg3", (Layer("avg", 3, 3, 0, 1, None, 1),)),
    ("max2s1", (Layer("max", 2, 1),)),
    ("max3s2p1", (Layer("max", 3, 2, 1),)),
    ("avg3s1p1", (Layer("avg", 3, 1, 1),)),
    ("c3s2p1d2f4g2", (Layer("conv", k=3, s=2, p=1, d=2, f=4, g=2),)),
    ("c7d4", (Layer("conv", k=7, d=4),)),
    ("c1f8g8", (Layer("conv", k=1, f=8, g=8),)),
    ("c3p1,relu,max2,c3s2", (Layer("conv", 3, p=1), Layer("relu"), Layer("max", 2, 2), Layer("conv", 3, s=2))),
    ("C3P1 , ReLU,MAX2 ,  c3S2", (Layer("conv", 3, p=1), Layer("relu"), Layer("max", 2, 2), Layer("conv", 3, s=2))),
    ("c3p1s2", (Layer("conv", 3, s=2, p=1),)),  # options in any order
    ("c3g2f4d2p1s2", (Layer("conv", k=3, s=2, p=1, d=2, f=4, g=2),)),
    ("max3p1s2", (Layer("max", 3, 2, 1),)),
    ("relu,avg3p1s1", (Layer("relu"), Layer("avg", 3, 1, 1))),
])
def test_hand_written_texts_mean_what_they_say(text, expected):
    """Each field read as documented; fails on a wrong default stride or a field stored in the wrong place."""
    assert parse_net(text) == expected


@pytest.mark.parametrize("text, canonical", [
    ("c3p1s2", "c3s2p1"), ("c3g2f4d2p1s2", "c3s2p1d2f4g2"), ("max3p1s2", "max3s2p1"), ("c5f2d1", "c5f2"),
    ("C3D2P2 , relu,avg2P1S1", "c3p2d2,relu,avg2s1p1"),
])
def test_options_in_any_order_are_rewritten_in_the_canonical_order(text, canonical):
    """A text with its options in any order means the layers it says, and its net text (what the URL keeps) writes
    them as s p d f g with defaults left out; fails if order changes a meaning or the text is not rewritten."""
    assert net_text(parse_net(text)) == canonical
    assert parse_net(canonical) == parse_net(text)


@settings(max_examples=200, **SETTINGS)
@given(GRAMMAR_LAYER, st.data())
def test_any_order_of_a_tokens_options_gives_the_same_layer(layer, data):
    """Shuffling the options of a token (c3s2p1 -> c3p1s2) parses to the same layer; fails if parsing depends on the
    order or drops an option it reorders."""
    head, options = re.match(r"^(relu|c\d+|max\d+|avg\d+)((?:[a-z]\d+)*)$", layer.token).groups()
    shuffled = data.draw(st.permutations(re.findall(r"[a-z]\d+", options)))
    assert parse_layer(head + "".join(shuffled)) == layer


@pytest.mark.parametrize("layer, token", [
    (Layer("conv", 3), "c3"), (Layer("max", 2, 2), "max2"), (Layer("max", 2, 1), "max2s1"),
    (Layer("avg", 3, 3, 1), "avg3p1"), (Layer("conv", 3, 1, 0, 1, 3), "c3f3"),
    (Layer("conv", 3, 2, 1, 2, 4, 2), "c3s2p1d2f4g2"), (Layer("relu"), "relu"),
])
def test_tokens_leave_defaults_out(layer, token):
    """Layer.token writes only what differs from the defaults; fails if a default is written or a field dropped."""
    assert layer.token == token


@pytest.mark.parametrize("text, needles", [
    ("c3,foo", ["Layer 2", "not a layer", "c3", "relu", "max2"]),
    ("relu2", ["Layer 1", "not a layer"]),
    ("c3s", ["Layer 1", "not a layer"]),  # an option letter without its number
    ("c0", ["Layer 1", "kernel 0", "1..7"]),
    ("relu,c8", ["Layer 2", "kernel 8", "1..7"]),
    ("avg8", ["Layer 1", "kernel 8", "1..7"]),
    ("c3s2s2", ["Layer 1", "'s' (stride) is given twice", "once"]),
    ("relu,c3p1s2p1", ["Layer 2", "'p' (padding) is given twice"]),  # twice, even apart
    ("max3p1s2p0", ["Layer 1", "'p' (padding) is given twice"]),  # twice, even with another value
    ("max2p2", ["Layer 1", "half", "p1 or less"]),
    ("c3,avg3p2", ["Layer 2", "half", "p1 or less"]),
    ("max1p1", ["Layer 1", "p0 or less"]),
    ("c3x1", ["Layer 1", "'x' is not an option", "s, p, d, f, g"]),
    ("max2d2", ["Layer 1", "'d' is not an option", "s, p"]),
    ("c3,c3,avg2f2", ["Layer 3", "'f' is not an option"]),
    ("c3s5", ["Layer 1", "stride 5", "1..4"]),
    ("c3s0", ["Layer 1", "stride 0", "1..4"]),
    ("c3p9", ["Layer 1", "padding 9", "0..8"]),
    ("c3d5", ["Layer 1", "dilation 5", "1..4"]),
    ("c3f0", ["Layer 1", "output channels 0", "1..8"]),
    ("c3g9", ["Layer 1", "groups 9", "1..8"]),
    ("c3,c3,c3,c3,c3", ["5 layers", "at most 4", "Remove 1"]),
    ("relu,relu,relu,relu,relu,relu", ["6 layers", "Remove 2"]),
    ("", ["one to four layers", "c3,relu,c3"]),
    ("   ", ["one to four layers"]),
    ("c3,", ["one to four layers"]),  # trailing comma
    (",c3", ["one to four layers"]),
    ("c3,,relu", ["one to four layers"]),
])
def test_invalid_texts_raise_with_the_layer_and_a_fix(text, needles):
    """Every invalid form raises NetError naming the layer at fault and the fix; fails if one parses or says less."""
    with pytest.raises(NetError) as err:
        parse_net(text)
    for needle in needles:
        assert needle in str(err.value), (needle, str(err.value))


@pytest.mark.parametrize("text, shape, needles", [
    ("c3g2", (1, 3, 8, 8), ["Layer 1", "groups", "does not divide", "3", "use 1 or 3"]),
    ("relu,c3g2", (1, 3, 8, 8), ["Layer 2", "does not divide"]),
    ("c3f3g2", (1, 2, 8, 8), ["Layer 1", "does not divide the 3 output"]),
    ("c3,c3", (1, 1, 4, 4), ["Layer 2", "2x2", "3x3", "larger input"]),  # 4 -> 2 rows: too few for a 3x3 window
    ("c3d3", (1, 1, 6, 6), ["Layer 1", "7x7"]),  # dilated window spans 7
    ("c2s2,max2,max2", (1, 1, 7, 9), ["Layer 3", "1x2"]),  # 7 -> 3 -> 1 rows
])
def test_plan_rejects_impossible_stacks_naming_the_layer(text, shape, needles):
    """plan() refuses a stack that cannot run on the input, naming the layer and the fix."""
    with pytest.raises(NetError) as err:
        plan(parse_net(text), shape)
    for needle in needles:
        assert needle in str(err.value), (needle, str(err.value))


def test_plan_shapes_and_parameter_counts_by_hand():
    """Shapes and parameter counts worked out by hand; fails on a wrong output-size formula or parameter count."""
    # (9 + 2*1 - 3) // 2 + 1 = 5, then 2x2 max pooling with stride 2: 5 // 2 = 2
    planned = plan(parse_net("c3s2p1,max2"), (2, 3, 9, 9))
    assert [p.out_shape for p in planned] == [(2, 3, 5, 5), (2, 3, 2, 2)]
    assert parameters(planned) == 3 * 3 * 9 + 3
    # grouped conv, 2 -> 4 channels in 2 groups: 4 filters of 1 x 3 x 3 + 4 biases = 40; 8 -> 6 -> 3;
    # then a 1x1 conv 4 -> 4: 16 + 4 = 20
    planned = plan(parse_net("c3f4g2,relu,max2,c1"), (1, 2, 8, 8))
    assert [p.out_shape for p in planned] == [(1, 4, 6, 6), (1, 4, 6, 6), (1, 4, 3, 3), (1, 4, 3, 3)]
    assert [p.params for p in planned] == [40, 0, 0, 20] and parameters(planned) == 60
    assert planned[0].in_shape == (1, 2, 8, 8) and planned[3].in_shape == (1, 4, 3, 3)
    # dilation 2 with padding 2: window 5, (7 + 4 - 5) + 1 = 7; f changes the channels
    planned = plan(parse_net("c3p2d2f5"), (1, 1, 7, 4))
    assert planned[0].out_shape == (1, 5, 7, 4) and parameters(planned) == 5 * 9 + 5


def test_init_params_are_small_seeded_integers_of_the_right_shapes():
    """init_params: (F, C/G, K, K) and (F,) integers in -1..1, the same for the same seed; None for other layers."""
    planned = plan(parse_net("c3f4g2,relu,max2,c1f3"), (1, 2, 8, 8))
    params = init_params(planned, seed=5)
    assert params[1] is None and params[2] is None
    assert params[0][0].shape == (4, 1, 3, 3) and params[0][1].shape == (4,)
    assert params[3][0].shape == (3, 4, 1, 1) and params[3][1].shape == (3,)
    for w, b in (params[0], params[3]):
        assert w.dtype == np.float64 and set(np.unique(w)) <= {-1.0, 0.0, 1.0} and set(np.unique(b)) <= {-1.0, 0.0, 1.0}
    again = init_params(planned, seed=5)
    for a, b in zip((params[0], params[3]), (again[0], again[3])):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


def test_one_hot():
    g = one_hot((2, 3, 4, 5), 1, 2, 3, 0)
    assert g.shape == (2, 3, 4, 5) and g.sum() == 1.0 and g[1, 2, 3, 0] == 1.0


# ---------------------------------------------------------------------------------------------------
# 2. PyTorch oracle
# ---------------------------------------------------------------------------------------------------
@settings(max_examples=300, **SETTINGS)
@given(stacks(ORACLE_LAYER), SHAPES)
def test_plan_rejects_exactly_the_stacks_torch_cannot_run(layers, shape):
    """plan() raises iff PyTorch raises or gives an empty map, naming the same layer; otherwise every shape and the
    parameter count equal PyTorch's. Fails if plan accepts a stack that cannot run or refuses one that can."""
    shapes, count = torch_shapes(layers, shape)
    planned = planned_or_none(layers, shape)
    event("rejected" if count is None else "accepted")
    if count is None:
        failing = shapes
        with pytest.raises(NetError) as err:
            plan(layers, shape)
        assert str(err.value).startswith(f"Layer {failing} ("), (failing, str(err.value))
        return
    assert planned is not None, (net_text(layers), shape)
    assert [p.in_shape for p in planned] == list(shapes[:-1])
    assert [p.out_shape for p in planned] == list(shapes[1:])
    assert parameters(planned) == count


@settings(max_examples=150, **SETTINGS)
@given(stacks(ORACLE_LAYER), SHAPES, st.booleans(), st.integers(0, 2**32 - 1))
def test_every_activation_and_gradient_matches_torch(layers, shape, integer_weights, seed):
    """Activations a_0..a_L, dL/da_l for every l, and each conv's dw, db equal PyTorch autograd (float64) for a random
    upstream gradient; weights from init_params or random normal. Fails on any wrong layer, forward or backward."""
    planned = planned_or_none(layers, shape)
    assume(planned is not None)
    rng = np.random.default_rng(seed)
    params = init_params(planned, seed % 1000) if integer_weights else random_params(planned, rng)
    x = rng.standard_normal(shape)
    acts = forward(planned, x, params)
    dout = rng.standard_normal(acts[-1].shape)
    back = backward(planned, acts, params, dout)
    values, grads, dws = torch_forward_backward(layers, x, params, dout)
    assert len(acts) == len(back.grads) == len(layers) + 1
    for l in range(len(layers) + 1):
        assert_close(acts[l], values[l], what=f"a_{l}")
        assert_close(back.grads[l], grads[l], what=f"dL/da_{l}")
    for l, layer in enumerate(layers):
        if layer.kind == "conv":
            assert_close(back.dw[l], dws[l][0], what=f"dw of layer {l + 1}")
            assert_close(back.db[l], dws[l][1], what=f"db of layer {l + 1}")
        else:
            assert back.dw[l] is None and back.db[l] is None


INT_LAYER = st.one_of(conv_layers(4, 3, 2, 2, 3, (1, 1, 2)), pool_layers(("max",), 4, 3), st.just(RELU))


@settings(max_examples=100, **SETTINGS)
@given(stacks(INT_LAYER), SHAPES, st.integers(0, 2**32 - 1))
def test_integer_data_with_max_pool_ties_matches_torch_exactly(layers, shape, seed):
    """Integer inputs, weights and upstream gradients: max pooling windows hold ties and ReLU sees exact zeros.
    PyTorch (CPU) routes a tie's gradient to the window's first maximum and gives ReLU no gradient at 0; so must the
    engine, exactly (every value is an integer, so there is no rounding). Fails on last-maximum or split routing."""
    planned = planned_or_none(layers, shape)
    assume(planned is not None)
    rng = np.random.default_rng(seed)
    params = init_params(planned, seed % 1000)
    x = rng.integers(-2, 3, shape).astype(np.float64)
    acts = forward(planned, x, params)
    dout = rng.integers(-3, 4, acts[-1].shape).astype(np.float64)
    back = backward(planned, acts, params, dout)
    values, grads, dws = torch_forward_backward(layers, x, params, dout)
    for l in range(len(layers) + 1):
        np.testing.assert_array_equal(acts[l], values[l], err_msg=f"a_{l}")
        np.testing.assert_array_equal(back.grads[l], grads[l], err_msg=f"dL/da_{l}")
    for l, layer in enumerate(layers):
        if layer.kind == "conv":
            np.testing.assert_array_equal(back.dw[l], dws[l][0])
            np.testing.assert_array_equal(back.db[l], dws[l][1])


def test_max_pool_ties_go_to_the_first_maximum_by_hand_and_in_torch():
    """All-equal windows: each window's gradient lands on its top-left cell (row-major first), in convviz and PyTorch.
    Fails if a tie splits the gradient or picks another cell."""
    layers = parse_net("max2,max2s1")
    planned = plan(layers, (1, 1, 6, 6))
    x = np.ones((1, 1, 6, 6))
    acts = forward(planned, x, (None, None))
    dout = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)  # 6 -> 3 -> 2
    back = backward(planned, acts, (None, None), dout)
    # second layer: window (i, j) of the 3x3 map picks its cell (i, j); first layer: cell (a, b) of the 3x3 map is
    # the top-left (2a, 2b) of its window
    expected = np.zeros((6, 6))
    for i in range(2):
        for j in range(2):
            expected[2 * i, 2 * j] += dout[0, 0, i, j]
    np.testing.assert_array_equal(back.grads[0][0, 0], expected)
    _, grads, _ = torch_forward_backward(layers, x, (None, None), dout)
    np.testing.assert_array_equal(grads[0][0, 0], expected)


# ---------------------------------------------------------------------------------------------------
# 3. central differences
# ---------------------------------------------------------------------------------------------------
KINK = 1e-4


def windows(a, k, s, p, fill):
    """(N, C, OH, OW, k*k) windows of a, padded with `fill` (written here, not borrowed from convviz)."""
    ap = np.pad(a, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=fill)
    oh, ow = (ap.shape[2] - k) // s + 1, (ap.shape[3] - k) // s + 1
    out = np.empty(a.shape[:2] + (oh, ow, k * k))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = ap[:, :, i * s:i * s + k, j * s:j * s + k].reshape(a.shape[:2] + (k * k,))
    return out


def far_from_kinks(layers, acts):
    """True if no ReLU input is within KINK of 0 and every max window's top two differ by more than KINK (or the
    window is all exact zeros: ReLU outputs of inputs below -KINK, constant under a small perturbation)."""
    for layer, a in zip(layers, acts):
        if layer.kind == "relu" and np.abs(a).min() <= KINK:
            return False
        if layer.kind == "max":
            top2 = np.sort(windows(a, layer.k, layer.s, layer.p, -np.inf), axis=-1)[..., -2:] if layer.k > 1 else None
            if top2 is not None:
                gap = top2[..., 1] - top2[..., 0]
                if np.any((gap <= KINK) & ~((top2[..., 1] == 0) & (top2[..., 0] == 0))):
                    return False
    return True


def central_difference(f, arr, eps=1e-6):
    g = np.zeros_like(arr)
    for idx in np.ndindex(arr.shape):
        orig = arr[idx]
        arr[idx] = orig + eps
        up = f()
        arr[idx] = orig - eps
        down = f()
        arr[idx] = orig
        g[idx] = (up - down) / (2 * eps)
    return g


SMALL_LAYER = st.one_of(conv_layers(3, 2, 1, 2, 2, (1,)), pool_layers(max_k=3, max_s=2), st.just(RELU))


@settings(max_examples=15, **SETTINGS)
@given(stacks(SMALL_LAYER), st.tuples(st.just(1), st.integers(1, 2), st.integers(3, 7), st.integers(3, 7)),
       st.integers(0, 2**32 - 1))
def test_gradients_match_central_differences(layers, shape, seed):
    """dL/dx and every conv's dw, db for L = sum(out * dout) equal central differences (eps 1e-6), away from
    kinks. Fails on any wrong backward, independently of PyTorch."""
    planned = planned_or_none(layers, shape)
    assume(planned is not None)
    rng = np.random.default_rng(seed)
    for _ in range(30):  # draw data again until no ReLU input or max competitor is near a kink
        params = random_params(planned, rng)
        x = rng.standard_normal(shape)
        acts = forward(planned, x, params)
        if far_from_kinks(layers, acts):
            break
    else:
        assume(False)
    dout = rng.standard_normal(acts[-1].shape)
    back = backward(planned, acts, params, dout)

    def loss():
        return float(np.sum(forward(planned, x, params)[-1] * dout))

    assert_close(back.grads[0], central_difference(loss, x), rtol=1e-6, what="dx")
    for l, prm in enumerate(params):
        if prm is not None:
            assert_close(back.dw[l], central_difference(loss, prm[0]), rtol=1e-6, what=f"dw {l + 1}")
            assert_close(back.db[l], central_difference(loss, prm[1]), rtol=1e-6, what=f"db {l + 1}")


# ---------------------------------------------------------------------------------------------------
# 4. receptive field and reach
# ---------------------------------------------------------------------------------------------------
def positive_run(planned, shape, rng, cell):
    """Backward of a one-hot at `cell` (n, f, i, j) through positive weights, biases and input: nothing is masked
    (every ReLU input > 0), so a cell has a nonzero gradient iff some chain of taps reaches it."""
    params = random_params(planned, rng, 0.5, 1.5)
    acts = forward(planned, rng.uniform(0.5, 1.5, shape), params)
    assert all(np.all(a > 0) for a in acts)
    return backward(planned, acts, params, one_hot(acts[-1].shape, *cell))


def box(mask_1d):
    idx = np.flatnonzero(mask_1d)
    return (int(idx[0]), int(idx[-1])) if idx.size else None


@settings(max_examples=150, **SETTINGS)
@given(stacks(NO_MAX_LAYER), SHAPES, st.data())
def test_reach_is_exactly_where_a_one_hot_gradient_lands(layers, shape, data):
    """Without max pooling and with positive numbers, the cells of every map a_l with a nonzero one-hot gradient (any
    channel, the cell's batch item) are exactly reach(...)[l]; the other batch items get nothing. The bounding box of
    reach[0] lies inside the closed-form span of receptive_field, clipped to the input; it equals the span when the
    span lies inside the input; and for a stack without holes (dilation 1, stride <= kernel) its first row/column is
    the clipped span's. Fails on a wrong reach, receptive_field or backward."""
    planned = planned_or_none(layers, shape)
    assume(planned is not None)
    N, F, H, W = planned[-1].out_shape
    cell = tuple(data.draw(st.integers(0, m - 1)) for m in (N, F, H, W))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    back = positive_run(planned, shape, rng, cell)
    masks = reach(planned, cell[2], cell[3])
    assert len(masks) == len(layers) + 1
    for l, (g, mask) in enumerate(zip(back.grads, masks)):
        np.testing.assert_array_equal(np.any(g[cell[0]] != 0, axis=0), mask, err_msg=f"map a_{l}")
        assert not np.any(np.delete(g, cell[0], axis=0)), f"map a_{l}: another batch item"
    field = receptive_field(layers)
    hole_free = all(L.kind == "relu" or (L.d == 1 and L.s <= L.k) for L in layers)
    axes = [(field.span(cell[2]), shape[2], masks[0].any(axis=1)), (field.span(cell[3]), shape[3], masks[0].any(axis=0))]
    if all(lo >= 0 and hi <= size - 1 for (lo, hi), size, _ in axes):
        assert [box(read) for _, _, read in axes] == [span for span, _, _ in axes]
    if masks[0].any():
        for (lo, hi), size, read in axes:
            got = box(read)
            assert max(lo, 0) <= got[0] and got[1] <= min(hi, size - 1), (got, (lo, hi))
            if hole_free:
                assert got[0] == max(lo, 0), (got, (lo, hi))


FIELD_LAYER = st.one_of(conv_layers(3, 2, 2, 2, 1, (1,)), pool_layers(("avg",), 3, 2), st.just(RELU))


@settings(max_examples=40, **SETTINGS)
@given(stacks(FIELD_LAYER), st.integers(0, 2**32 - 1))
def test_receptive_field_is_the_one_hot_gradients_extent_on_a_large_input(layers, seed):
    """On an input large enough that a cell's window is all real cells, the rows (columns) its one-hot gradient
    reaches run from span(u)[0] to span(u)[1], and the next cell's start `jump` later. An independent check of the
    closed form's size, jump and start. Fails on a wrong r, j or start (e.g. padding not times the stride before it)."""
    field = receptive_field(layers)
    H = 2 * (field.size + 2 * field.jump - field.start) + 4
    planned = plan(layers, (1, 1, H, H))
    u = -(-max(-field.start, 0) // field.jump)  # the first cell whose window starts at row >= 0
    assert u + 1 < planned[-1].out_shape[2] and field.span(u + 1)[1] < H
    rng = np.random.default_rng(seed)
    for v in (u, u + 1):
        back = positive_run(planned, (1, 1, H, H), rng, (0, 0, v, v))
        support = back.grads[0][0, 0] != 0
        assert box(support.any(axis=1)) == field.span(v) == box(support.any(axis=0))


@pytest.mark.parametrize("text, size, jump, start", [
    ("c3,c3", 5, 1, 0),  # two 3x3 convolutions see as far as one 5x5
    ("c5", 5, 1, 0),
    ("c3,max2,c3", 8, 2, 0),  # 1 + (3-1)*1 + (2-1)*1 + (3-1)*2 = 8; jump 1*1*2 = 2
    ("c3d1,c3d2,c3d4", 15, 1, 0),  # effective kernels 3, 5, 9: 1 + 2 + 4 + 8 = 15
    ("c3s2,c3s2", 7, 4, 0),  # 1 + 2*1 + 2*2 = 7; jump 2*2 = 4
    ("c3s2p1,c3s2p1", 7, 4, -3),  # start = -(1*1 + 1*2)
    ("c3p1,relu,max2p1", 4, 2, -2),  # ReLU adds nothing: 1 + 2 + 1 = 4; start = -(1 + 1*1)
    ("c7s2p3,max3s2p1", 11, 4, -5),  # ResNet's stem: 1 + 6*1 + 2*2 = 11, jump 4, start -(3 + 1*2)
    ("c3p1,c3p1,max2,c3p1", 10, 2, -4),  # VGG-like: 1 + 2 + 2 + 1 + 2*2 = 10; start -(1 + 1 + 0 + 1*2)
    ("relu", 1, 1, 0),
    ("avg3s1p1,c1s3", 3, 3, -1),
])
def test_receptive_field_classic_values(text, size, jump, start):
    """Hand-computed receptive fields (Araujo et al. 2019); fails on a wrong formula for r, j or start."""
    assert receptive_field(parse_net(text)) == Field(size, jump, start)
    assert Field(size, jump, start).span(3) == (start + 3 * jump, start + 3 * jump + size - 1)


@pytest.mark.parametrize("text, shape, cell, rows", [
    # c2p2d3 on 5 rows: output cell 0's taps are at rows -2 (padding) and 1, so it reads row 1 only, while the
    # closed-form span [-2, 1] clipped to the input is [0, 1]
    ("c2p2d3", (1, 1, 5, 5), (0, 0), [1]),
    # c3s2,c3p1 on 6 rows: a_1 has 2 rows (windows 0-2, 2-4); output cell 1 reads a_1 rows 0, 1 (row 2 is padding),
    # so input rows 0-4, while the span [-2 + 2, -2 + 2 + 6] = [0, 6] clipped is [0, 5]: row 5 is never read
    ("c3s2,c3p1", (1, 1, 6, 6), (1, 1), [0, 1, 2, 3, 4]),
    # c1s3 then c2: cell 0 reads a_1 rows 0, 1 = input rows 0, 3: a hole inside the window
    ("c1s3,c2", (1, 1, 7, 7), (0, 0), [0, 3]),
])
def test_reach_is_narrower_than_the_clipped_span_where_holes_or_padding_say_so(text, shape, cell, rows):
    """The closed-form span counts taps into padding and skipped cells; reach and the gradient do not. Hand cases."""
    planned = plan(parse_net(text), shape)
    expected = np.zeros(shape[2:], dtype=bool)
    expected[np.ix_(rows, rows)] = True
    np.testing.assert_array_equal(reach(planned, *cell)[0], expected)
    back = positive_run(planned, shape, np.random.default_rng(0), (0, 0, *cell))
    np.testing.assert_array_equal(back.grads[0][0, 0] != 0, expected)


@settings(max_examples=100, **SETTINGS)
@given(stacks(ORACLE_LAYER), SHAPES, st.data())
def test_with_max_pooling_the_gradient_reaches_a_subset_of_reach(layers, shape, data):
    """Max pooling passes a gradient to one cell per window, so the one-hot gradient's support on every map is a
    subset of reach (random normal numbers); fails if reach misses a cell the gradient really reaches."""
    planned = planned_or_none(layers, shape)
    assume(planned is not None)
    N, F, H, W = planned[-1].out_shape
    cell = tuple(data.draw(st.integers(0, m - 1)) for m in (N, F, H, W))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    params = random_params(planned, rng)
    acts = forward(planned, rng.standard_normal(shape), params)
    back = backward(planned, acts, params, one_hot(acts[-1].shape, *cell))
    for g, mask in zip(back.grads, reach(planned, cell[2], cell[3])):
        assert not np.any(np.any(g != 0, axis=(0, 1)) & ~mask)


@pytest.mark.parametrize("text, size, unread", [
    ("c3s2", 6, [5]),  # windows rows 0-2 and 2-4: row 5 is never read
    ("c3s2", 7, []),  # windows 0-2, 2-4, 4-6
    ("c1s3", 7, [1, 2, 4, 5]),  # reads rows 0, 3, 6
    ("c2d2", 6, []),  # taps (u, u + 2) for u = 0..3 cover 0..5
    ("max2", 5, [4]),  # windows 0-1, 2-3
    ("c3s2,c3s2", 8, [7]),  # a_1: 3 rows (windows 0-2, 2-4, 4-6); a_2: 1 row reading a_1 rows 0-2 = input 0-6
    ("c1p2", 3, []),  # padding only adds cells read by nobody in the input
])
def test_never_read_by_hand(text, size, unread):
    """never_read: the rows and columns no output cell reads, worked out by hand; fails on an off-by-one."""
    expected = np.zeros((size, size), dtype=bool)
    expected[unread, :] = True
    expected[:, unread] = True
    np.testing.assert_array_equal(never_read(plan(parse_net(text), (1, 1, size, size))), expected)


@settings(max_examples=60, **SETTINGS)
@given(stacks(NO_MAX_LAYER), SHAPES, st.integers(0, 2**32 - 1))
def test_never_read_is_where_an_all_ones_gradient_does_not_land(layers, shape, seed):
    """With positive numbers and no max pooling, never_read is exactly where the input gradient of an all-ones
    upstream gradient is 0 in every channel; fails if never_read misses or invents an unread cell."""
    planned = planned_or_none(layers, shape)
    assume(planned is not None)
    rng = np.random.default_rng(seed)
    params = random_params(planned, rng, 0.5, 1.5)
    acts = forward(planned, rng.uniform(0.5, 1.5, shape), params)
    back = backward(planned, acts, params, np.ones(acts[-1].shape))
    np.testing.assert_array_equal(never_read(planned), np.all(back.grads[0] == 0, axis=(0, 1)))


# ---------------------------------------------------------------------------------------------------
# 5. effective receptive field
# ---------------------------------------------------------------------------------------------------
def ones_gradient(text, size, cell):
    """Input gradient of a one-hot at `cell` through all-ones convolutions with zero bias on an all-ones input."""
    planned = plan(parse_net(text), (1, 1, size, size))
    params = tuple(None if p is None else (np.ones_like(p[0]), np.zeros_like(p[1])) for p in init_params(planned))
    acts = forward(planned, np.ones((1, 1, size, size)), params)
    return backward(planned, acts, params, one_hot(acts[-1].shape, 0, 0, *cell)).grads[0][0, 0]


def test_effective_receptive_field_of_three_3x3_convs_is_binomial_like():
    """Through c3,c3,c3 with ones, an input cell's gradient is the number of paths to the output cell: the outer
    product of [1,1,1]*[1,1,1]*[1,1,1] = [1,3,6,7,6,3,1], heavier in the centre. Fails on a wrong backward."""
    counts = np.array([1, 3, 6, 7, 6, 3, 1], dtype=float)
    np.testing.assert_array_equal(np.convolve(np.convolve([1, 1, 1], [1, 1, 1]), [1, 1, 1]), counts)
    expected = np.zeros((9, 9))
    expected[1:8, 1:8] = np.outer(counts, counts)  # 9 -> 7 -> 5 -> 3 rows; centre cell (1, 1) reads rows 1..7
    np.testing.assert_array_equal(ones_gradient("c3,c3,c3", 9, (1, 1)), expected)


def test_effective_receptive_field_of_strided_convs_is_a_checkerboard():
    """Through c3s2,c3s2 with ones, the path counts are the second kernel upsampled by 2 ([1,0,1,0,1]) convolved
    with the first: [1,1,2,1,2,1,1] per axis, an uneven pattern (gridding). Fails on a wrong strided backward."""
    per_axis = np.convolve([1, 0, 1, 0, 1], [1, 1, 1]).astype(float)
    np.testing.assert_array_equal(per_axis, [1, 1, 2, 1, 2, 1, 1])
    got = ones_gradient("c3s2,c3s2", 7, (0, 0))  # 7 -> 3 -> 1
    np.testing.assert_array_equal(got, np.outer(per_axis, per_axis))
    assert got[2, 2] == 4 and got[2, 3] == 2 and got[3, 3] == 1  # neighbours differ: not a smooth bump


@pytest.mark.parametrize("text, size, cell, per_axis", [
    ("c3,c3,c3", 9, (1, 1), [0, 1, 3, 6, 7, 6, 3, 1, 0]),  # [1,1,1] convolved three times, on rows 1..7
    ("c3s2,c3s2", 7, (0, 0), [1, 1, 2, 1, 2, 1, 1]),  # [1,0,1,0,1] * [1,1,1]
    ("c3,max2", 6, (1, 1), [0, 0, 1, 2, 2, 1]),  # window rows 2-3 of a_1, each reading 3 rows: [1,1,1] + shifted
])
def test_path_counts_by_hand(text, size, cell, per_axis):
    """path_counts: the closed-form path counts worked out by hand; fails on a wrong count."""
    per_axis = np.array(per_axis)
    np.testing.assert_array_equal(path_counts(plan(parse_net(text), (1, 1, size, size)), *cell),
                                  np.outer(per_axis, per_axis))


PATH_LAYER = st.one_of(conv_layers(4, 3, 2, 3, None, (1,)), pool_layers(("avg",), 3, 3), st.just(RELU))


@settings(max_examples=60, **SETTINGS)
@given(stacks(PATH_LAYER), st.integers(1, 12), st.integers(1, 12), st.data())
def test_path_counts_are_the_all_ones_gradient(layers, h, w, data):
    """One channel, all-ones weights, bias 1 (so every ReLU input is >= 1), average pooling as a sum (times K*K): the
    one-hot input gradient counts the paths, so it equals path_counts times prod 1/K^2 over the average pools.
    Fails if path_counts misses overlapping windows, dilation or padding."""
    planned = planned_or_none(layers, (1, 1, h, w))
    assume(planned is not None)
    H, W = planned[-1].out_shape[2:]
    i, j = data.draw(st.integers(0, H - 1)), data.draw(st.integers(0, W - 1))
    params = tuple(None if p.layer.kind != "conv" else (np.ones((1, 1, p.layer.k, p.layer.k)), np.ones(1))
                   for p in planned)
    acts = forward(planned, np.ones((1, 1, h, w)), params)
    grad = backward(planned, acts, params, one_hot(acts[-1].shape, 0, 0, i, j)).grads[0][0, 0]
    scale = np.prod([L.k * L.k for L in layers if L.kind == "avg"])
    np.testing.assert_allclose(grad * scale, path_counts(planned, i, j), rtol=1e-12)


# ---------------------------------------------------------------------------------------------------
# 6. the skip_relu_mask bug
# ---------------------------------------------------------------------------------------------------
RELU_STACK = st.tuples(  # 0..3 layers with a ReLU inserted somewhere
    st.lists(st.one_of(conv_layers(4, 2, 2, 2, 3, (1,)), pool_layers(("avg",), 3, 2), st.just(RELU)), max_size=3),
    st.integers(0, 3)).map(lambda t: tuple(t[0][:t[1]] + [RELU] + t[0][t[1]:]))


@settings(max_examples=100, **SETTINGS)
@given(RELU_STACK, SHAPES, st.booleans(), st.data())
def test_skip_relu_mask_differs_exactly_when_a_reached_relu_input_is_negative(layers, shape, positive, data):
    """skip_relu_mask=True passes ReLU's gradient unmasked: the input gradient of a one-hot differs from the correct
    one at that ReLU's input when some ReLU input cell in the reach (that batch item, the channels it reaches) is
    negative -- and at the network's input too when no padding below lets the cell read only padding -- and equals it
    bit for bit when all are positive. Fails if the flag does nothing, or changes a gradient it should not."""
    planned = planned_or_none(layers, shape)
    assume(planned is not None)
    N, F, H, W = planned[-1].out_shape
    cell = tuple(data.draw(st.integers(0, m - 1)) for m in (N, F, H, W))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    if positive:
        params = random_params(planned, rng, 0.5, 1.5)
        x = rng.uniform(0.5, 1.5, shape)
    else:
        params = random_params(planned, rng)
        x = rng.standard_normal(shape)
    acts = forward(planned, x, params)
    dout = one_hot(acts[-1].shape, *cell)
    right = backward(planned, acts, params, dout)
    wrong = backward(planned, acts, params, dout, skip_relu_mask=True)
    masks = reach(planned, cell[2], cell[3])
    # reach is spatial; the channels reached: ReLU and pooling act per channel, a groups-1 conv mixes all of them,
    # so a map reads only the one-hot's channel f until a convolution lies between it and the output
    channels = [slice(None) if any(L.kind == "conv" for L in layers[l:]) else slice(cell[1], cell[1] + 1)
                for l in range(len(layers))]
    # "negative" includes exact zeros: they come only from an earlier ReLU of a negative input (relu,relu), and the
    # mask blocks them too
    negative = [l for l, L in enumerate(layers)
                if L.kind == "relu" and np.any(acts[l][cell[0]][channels[l]][:, masks[l]] <= 0)]
    event(f"negative ReLU input in reach: {bool(negative)}")
    if negative:
        last = negative[-1]  # above it the two passes agree; at its input they must differ
        np.testing.assert_array_equal(wrong.grads[last + 1], right.grads[last + 1])
        assert not np.array_equal(wrong.grads[last], right.grads[last])
        if all(L.p == 0 for L in layers[:last]):  # (with padding, the cell may read only padding: nothing flows on)
            assert not np.allclose(wrong.grads[0], right.grads[0])
    else:
        for a, b in zip(wrong.grads, right.grads):
            np.testing.assert_array_equal(a, b)
        for a, b in zip(wrong.dw + wrong.db, right.dw + right.db):
            assert (a is None and b is None) or np.array_equal(a, b)
    if positive:
        assert not negative


def test_skip_relu_mask_by_hand():
    """relu alone on [-1, 2]: the right input gradient is [0, g], the buggy one [g0, g1]."""
    planned = plan(parse_net("relu"), (1, 1, 1, 2))
    x = np.array([[[[-1.0, 2.0]]]])
    acts = forward(planned, x, (None,))
    dout = np.array([[[[3.0, 5.0]]]])
    np.testing.assert_array_equal(backward(planned, acts, (None,), dout).grads[0], [[[[0.0, 5.0]]]])
    np.testing.assert_array_equal(backward(planned, acts, (None,), dout, skip_relu_mask=True).grads[0], dout)


# ---------------------------------------------------------------------------------------------------
# the channel drawn per map (the network page draws one channel of every map)
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, shape, f, c, expected", [
    ("c3f4,relu,c3", (1, 3, 8, 8), 2, 1, (1, 1, 1, 2)),  # 3 -> 4 -> 4 channels: input channel 1 of each convolution
    ("c3f4,relu,c3", (1, 3, 8, 8), 2, 5, (2, 3, 3, 2)),  # 5 is past both: each convolution's last input channel
    ("c3f4g2", (1, 2, 6, 6), 3, 0, (1, 3)),  # filters 2 and 3 are group 1's: they read input channel 1 only
    ("c3f4g2", (1, 2, 6, 6), 1, 0, (0, 1)),
    ("c1f6g3,max2", (1, 6, 4, 4), 5, 1, (5, 5, 5)),  # group 2 of 3 reads channels 4 and 5; pooling keeps channel 5
    ("relu,avg2", (1, 3, 4, 4), 2, 0, (2, 2, 2)),  # no convolution: the channel never changes
])
def test_path_channels_by_hand(text, shape, f, c, expected):
    """The channel of every map a_0 .. a_L on the path down from channel f; fails if a convolution's group, the clip to
    it, or the channel kept by ReLU and pooling is wrong."""
    assert path_channels(plan(parse_net(text), shape), f, c) == expected


@pytest.mark.parametrize("text, shape, most", [
    ("c3f4,relu,c3", (1, 3, 8, 8), 4), ("c3f4g2", (1, 2, 6, 6), 1), ("c1f6g3,c1", (1, 6, 4, 4), 6),
    ("relu,max2", (1, 5, 4, 4), 1),
])
def test_group_channels_is_the_widest_group_a_convolution_reads(text, shape, most):
    assert group_channels(plan(parse_net(text), shape)) == most


@settings(max_examples=150, **SETTINGS)
@given(stacks(ORACLE_LAYER), SHAPES, st.data())
def test_every_channel_on_the_path_carries_the_cells_gradient(layers, shape, data):
    """With all-ones weights, zero biases and a positive input (no ReLU blocks, no weights cancel), a one-hot at
    output cell (f, i, j) reaches a map's channel exactly when that channel feeds the cell: so each channel
    path_channels picks must receive some gradient. Fails if a path leaves a convolution's group or changes channel
    through ReLU or pooling."""
    planned = planned_or_none(layers, shape)
    assume(planned is not None)
    _, fo, oh, ow = planned[-1].out_shape
    f, i, j = data.draw(st.integers(0, fo - 1)), data.draw(st.integers(0, oh - 1)), data.draw(st.integers(0, ow - 1))
    c = data.draw(st.integers(0, 7))
    params = tuple((np.ones(p.spec.weight_shape), np.zeros(p.spec.f)) if p.layer.kind == "conv" else None
                   for p in planned)
    x = 1.0 + np.random.default_rng(0).random(shape)
    acts = forward(planned, x, params)
    grads = backward(planned, acts, params, one_hot(planned[-1].out_shape, 0, f, i, j)).grads
    assume(np.any(grads[0] != 0))  # a cell that reads only padding passes nothing back
    for l, ch in enumerate(path_channels(planned, f, c)):
        assert np.any(grads[l][0, ch] != 0), (net_text(layers), shape, (f, i, j, c), l, ch)


# ---------------------------------------------------------------------------------------------------
# the trace's captions: regions named, single rows as "row 0", clipping said only when it happens
# ---------------------------------------------------------------------------------------------------
def trace_of(text, shape, **picks):
    from convviz.network import NetSpec
    from convviz.traces import network_trace

    x = np.random.default_rng(3).integers(-3, 4, shape).astype(float)
    return network_trace(x, NetSpec.create(text, shape), **picks)


def caption(trace, title_start):
    (step,) = [s for s in trace.steps if s.title.startswith(title_start)]
    return step.caption


def test_the_effective_field_caption_names_the_central_region_and_the_share_it_holds():
    """c3,relu,c3, cell (0, 0): the field is input rows and columns 0..4; its central 3 x 3 is rows and columns
    1..3. Paths per axis 1 2 3 2 1 (sum 9), 2 + 3 + 2 = 7 in the centre: 49 / 81 = 60% of the path count."""
    text = caption(trace_of("c3,relu,c3", (1, 1, 6, 6), rc=0), "Effective receptive field")
    assert "the central 3 x 3 of the 5 x 5 field (rows 1..3, columns 1..3) holds" in text, text
    assert "The paths (all weights 1) put 60% there" in text, text
    assert "middle half" not in text


def test_a_15_wide_field_has_a_7_wide_centre():
    """c3,c3d2,c3d4 on 16 x 16, cell (0, 0): field rows 0..14; (15 + 1) // 4 = 4 trimmed each side: rows 4..10."""
    text = caption(trace_of("c3,c3d2,c3d4", (1, 1, 16, 16)), "Effective receptive field")
    assert "the central 7 x 7 of the 15 x 15 field (rows 4..10, columns 4..10)" in text, text


def test_a_single_row_is_written_as_one_row_and_a_field_inside_the_input_says_nothing_of_clipping():
    trace = trace_of("c1", (1, 1, 3, 3))
    field = caption(trace, "Receptive field")
    assert "reads input row 0, column 0." in field, field
    assert "in the input:" not in field
    for s in trace.steps:
        assert not re.search(r"\b(\d+)\.\.\1\b", s.caption), s.caption  # never "rows 0..0"
    assert "in the input:" not in caption(trace_of("c3,relu,c3", (1, 1, 6, 6)), "Receptive field")


def test_a_field_past_the_input_says_where_it_is_clipped():
    """c3p1 on 4 x 4, cell (0, 0): the window covers rows -1..1 of the padded input, rows 0..1 of the input."""
    field = caption(trace_of("c3p1", (1, 1, 4, 4)), "Receptive field")
    assert "reads input rows -1..1, columns -1..1 (in the input: rows 0..1, columns 0..1)." in field, field


def test_counts_say_positions_and_a_relus_count_says_positions_x_channels():
    """c3f4,relu,c3 on C = 3, cell (f, i, j) = (2, 1, 1): the one-hot is at 1 position; the ReLU's mask acts on each
    value, so its count is of cells (positions x channels): the nonzero values of dL/da2, counted here from the
    engine's backward (checked against torch above)."""
    from convviz.network import NetSpec

    shape = (1, 3, 8, 8)
    trace = trace_of("c3f4,relu,c3", shape, f=2, i=1, j=1, rc=0)
    assert "dL/da3 (nonzero at 1 position) back through" in caption(trace, "Backward, layer 3")
    x = np.random.default_rng(3).integers(-3, 4, shape).astype(float)
    planned = NetSpec.create("c3f4,relu,c3", shape).planned
    params = init_params(planned, 0, x)
    acts = forward(planned, x, params)
    g2 = backward(planned, acts, params, one_hot(planned[-1].out_shape, 0, 2, 1, 1)).grads[2][0]
    positions = int(np.count_nonzero(np.any(g2 != 0, axis=0)))
    relu = caption(trace, "Backward, layer 2")
    assert f"dL/da2 (nonzero at {positions} positions)" in relu, relu
    assert f"of its {int(np.count_nonzero(g2))} nonzero cells (positions x channels) pass" in relu, relu
