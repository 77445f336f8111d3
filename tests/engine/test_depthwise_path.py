"""The depthwise fast paths (convviz.depthwise, issue 22): when every output channel reads one input channel
(CG = C/groups = 1, groups > 1) and the layer is not tiny, the "im2col" forward builds the columns of a few images at
a time with one batched product per chunk (forward_columns), and the "col2im" backward scatters dout back tap by tap
(backward_taps). Every method, on depthwise and depth-multiplier layers, against PyTorch (float64), with a spy on the
two functions so that the fast path is known to have run (and the other methods known not to, so they stay
independent checks). The cases are small, so the size gate is off except in the test of the gate itself.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import convviz as cv
from convviz import conv, depthwise
from convviz.conv import BACKWARD_METHODS, FORWARD_METHODS, conv2d_backward_spec
from convviz.geometry import spec_for

TOL = 1e-10
GATE = depthwise.MIN_OUTPUTS  # the real size gate; the small cases below run with it off (see _no_size_gate)
FAST_FORWARD = ("im2col",)  # the methods that take convviz.depthwise's path when CG = 1
FAST_BACKWARD = ("col2im",)

CASES = [  # id, N, C, FG (depth multiplier), H, W, (KH, KW), stride, padding (top, bottom, left, right), dilation
    ("dw k3 s1 p1", 2, 4, 1, 8, 8, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1)),
    ("dw k3 s2 p1", 2, 4, 1, 9, 9, (3, 3), (2, 2), (1, 1, 1, 1), (1, 1)),
    ("x2 k3 s1 p1", 2, 3, 2, 7, 9, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1)),
    ("x2 k3 s2", 3, 3, 2, 10, 11, (3, 3), (2, 2), (0, 0, 0, 0), (1, 1)),
    ("dw non-dividing stride (3, 2)", 2, 5, 1, 11, 10, (3, 3), (3, 2), (0, 0, 0, 0), (1, 1)),
    ("x3 dilation 2", 2, 2, 3, 10, 9, (3, 3), (1, 1), (2, 2, 2, 2), (2, 2)),
    ("dw dilation (2, 1) stride 2", 2, 4, 1, 12, 9, (3, 2), (2, 1), (1, 0, 0, 1), (2, 1)),
    ("dw asymmetric padding", 2, 3, 1, 7, 8, (3, 3), (1, 1), (2, 0, 1, 3), (1, 1)),
    ("x2 asymmetric padding, stride 2", 2, 3, 2, 8, 7, (3, 3), (2, 2), (0, 2, 3, 1), (1, 1)),
    ("dw even kernel 2x2 s2", 2, 4, 1, 8, 8, (2, 2), (2, 2), (0, 0, 0, 0), (1, 1)),
    ("x2 even kernel 4x4 p (1, 2)", 2, 2, 2, 9, 9, (4, 4), (1, 1), (1, 2, 1, 2), (1, 1)),
    ("dw non-square 3x2", 2, 4, 1, 8, 9, (3, 2), (1, 1), (1, 1, 0, 1), (1, 1)),
    ("x2 non-square 1x4 s (1, 3)", 2, 3, 2, 6, 13, (1, 4), (1, 3), (0, 0, 1, 1), (1, 2)),
    ("dw 1x1", 2, 3, 1, 5, 5, (1, 1), (1, 1), (0, 0, 0, 0), (1, 1)),
]
IDS = [c[0] for c in CASES]


def layer(case, seed=0):
    """x (N, C, H, W), w (F, 1, KH, KW), b (F,), dout (N, F, OH, OW) and the keyword arguments of one case."""
    _, N, C, FG, H, W, (KH, KW), stride, pads, dil = case
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal((N, C, H, W)), rng.standard_normal((C * FG, 1, KH, KW)), rng.standard_normal(C * FG)
    spec = spec_for(x.shape, w.shape, stride, pads, dil, C)
    assert spec.is_depthwise and spec.cg == 1
    dout = rng.standard_normal(spec.output_shape)
    return x, w, b, dout, dict(stride=stride, padding=pads, dilation=dil, groups=C)


def torch_layer(x, w, b, dout, stride, padding, dilation, groups):
    """PyTorch's y and its dx, dw, db by autograd (float64); asymmetric padding by F.pad first."""
    top, bottom, left, right = padding
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.conv2d(F.pad(xt, (left, right, top, bottom)), wt, bt, stride, 0, dilation, groups)
    dx, dw, db = torch.autograd.grad(y, (xt, wt, bt), torch.tensor(dout))
    return y.detach().numpy(), dx.numpy(), dw.numpy(), db.numpy()


@pytest.fixture(autouse=True)
def _no_size_gate(monkeypatch):
    """The cases are small, to keep the tests fast: let them take the fast path (test_size_gate_* check the gate)."""
    monkeypatch.setattr(depthwise, "MIN_OUTPUTS", 0)


@pytest.fixture
def spy(monkeypatch):
    """Counts the calls of the fast-path functions as conv.py calls them (they still run)."""
    calls = {"forward": 0, "backward": 0}

    def counted(name, fn):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(conv, "forward_columns", counted("forward", depthwise.forward_columns))
    monkeypatch.setattr(conv, "backward_taps", counted("backward", depthwise.backward_taps))
    return calls


@pytest.mark.parametrize("method", FORWARD_METHODS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_forward_matches_torch(case, method, spy):
    x, w, b, dout, kw = layer(case)
    y = cv.conv2d(x, w, b, method=method, **kw)
    y_t, *_ = torch_layer(x, w, b, dout, **kw)
    np.testing.assert_allclose(y, y_t, rtol=TOL, atol=TOL)
    assert spy["forward"] == (method in FAST_FORWARD), f"{method}: fast path taken {spy['forward']} times"


@pytest.mark.parametrize("method", BACKWARD_METHODS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_backward_matches_torch_autograd(case, method, spy):
    x, w, b, dout, kw = layer(case, seed=1)
    dx, dw, db = cv.conv2d_backward(dout, x, w, method=method, **kw)
    _, dx_t, dw_t, db_t = torch_layer(x, w, b, dout, **kw)
    for name, got, want in (("dx", dx, dx_t), ("dw", dw, dw_t), ("db", db, db_t)):
        assert got.shape == want.shape, name
        np.testing.assert_allclose(got, want, rtol=TOL, atol=TOL, err_msg=name)
    assert spy["backward"] == (method in FAST_BACKWARD), f"{method}: fast path taken {spy['backward']} times"


@pytest.mark.parametrize("groups, c, f", [(1, 1, 4), (1, 3, 4), (2, 4, 4), (2, 4, 6)])
def test_fast_path_only_when_one_input_channel_per_group(groups, c, f, spy):
    """Ordinary (groups = 1, even with C = 1) and grouped layers with CG > 1 keep the per-group code."""
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, c, 6, 6)), rng.standard_normal((f, c // groups, 3, 3))
    assert not spec_for(x.shape, w.shape, 1, 1, 1, groups).is_depthwise
    y = cv.conv2d(x, w, None, 1, 1, method="im2col", groups=groups)
    cv.conv2d_backward(np.ones_like(y), x, w, 1, 1, method="col2im", groups=groups)
    assert spy == {"forward": 0, "backward": 0}


@pytest.mark.parametrize("n, c, fg, size, fast", [
    (1, 8, 2, 12, False),  # the bench's small depth-multiplier layer: 2,304 outputs
    (2, 16, 1, 16, True),  # 2*16*16*16 = 8,192 outputs: exactly at the gate
])
def test_size_gate_keeps_tiny_layers_on_the_per_group_code(n, c, fg, size, fast, spy, monkeypatch):
    monkeypatch.setattr(depthwise, "MIN_OUTPUTS", GATE)
    case = ("", n, c, fg, size, size, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1))
    x, w, b, dout, kw = layer(case, seed=4)
    assert (n * c * fg * size * size >= GATE) == fast
    y = cv.conv2d(x, w, b, method="im2col", **kw)
    dx, dw, db = cv.conv2d_backward(dout, x, w, method="col2im", **kw)
    for got, want in zip((y, dx, dw, db), torch_layer(x, w, b, dout, **kw)):
        np.testing.assert_allclose(got, want, rtol=TOL, atol=TOL)
    assert spy == {"forward": int(fast), "backward": int(fast)}


def test_image_chunks_cover_the_batch_once_in_order():
    assert depthwise.image_chunks(5, depthwise.CHUNK // 2) == [slice(0, 2), slice(2, 4), slice(4, 5)]
    assert depthwise.image_chunks(3, depthwise.CHUNK * 10) == [slice(0, 1), slice(1, 2), slice(2, 3)]  # >= 1 image
    assert depthwise.image_chunks(4, 1) == [slice(0, 4)]


@pytest.mark.parametrize("images_per_chunk", [1, 2, None])  # None: the whole batch in one chunk
@pytest.mark.parametrize("case", [CASES[1], CASES[3], CASES[6]], ids=[CASES[i][0] for i in (1, 3, 6)])
def test_chunked_batch_matches_torch(case, images_per_chunk, monkeypatch):
    """N = 5 split into chunks of 1, 2 (a short last chunk) or all 5 images gives the same y, dx, dw."""
    _, N, C, FG, H, W, k, stride, pads, dil = case
    x, w, b, dout, kw = layer(("", 5, C, FG, H, W, k, stride, pads, dil), seed=3)
    spec = spec_for(x.shape, w.shape, stride, pads, dil, C)
    y_t, dx_t, dw_t, _ = torch_layer(x, w, b, dout, **kw)
    per_image = {"forward": C * spec.kh * spec.kw * spec.oh * spec.ow, "backward": spec.f * spec.oh * spec.ow}
    for name, per in per_image.items():
        monkeypatch.setattr(depthwise, "CHUNK", 10**9 if images_per_chunk is None else images_per_chunk * per)
        if name == "forward":
            np.testing.assert_allclose(cv.conv2d(x, w, b, method="im2col", **kw), y_t, rtol=TOL, atol=TOL)
        else:
            dx, dw, _ = cv.conv2d_backward(dout, x, w, method="col2im", **kw)
            np.testing.assert_allclose(dx, dx_t, rtol=TOL, atol=TOL)
            np.testing.assert_allclose(dw, dw_t, rtol=TOL, atol=TOL)


def test_bug_lab_col2im_switch_keeps_its_own_code(spy):
    """The bug lab's col2im_assign runs the col2im code with the bug, not the fast path (which has no such bug)."""
    x, w, b, dout, kw = layer(CASES[0])
    spec = spec_for(x.shape, w.shape, kw["stride"], kw["padding"], kw["dilation"], kw["groups"])
    dx_bug, _, _ = conv2d_backward_spec(dout, x, w, spec, "col2im", _bug="col2im_assign")
    dx, _, _ = conv2d_backward_spec(dout, x, w, spec, "col2im")
    assert spy["backward"] == 1  # the correct call only
    assert not np.allclose(dx_bug, dx)  # 3x3 windows at stride 1 overlap: assignment loses writes


def test_float32_stays_float32_like_the_other_methods():
    x, w, b, dout, kw = layer(CASES[2])
    x32, w32, d32 = x.astype(np.float32), w.astype(np.float32), dout.astype(np.float32)
    y_fast = cv.conv2d(x32, w32, None, method="im2col", **kw)
    y_ref = cv.conv2d(x32, w32, None, method="strided", **kw)
    assert y_fast.dtype == y_ref.dtype == np.float32
    np.testing.assert_allclose(y_fast, y_ref, rtol=1e-4, atol=1e-4)
    for got, want in zip(cv.conv2d_backward(d32, x32, w32, method="col2im", **kw),
                         cv.conv2d_backward(d32, x32, w32, method="transposed", **kw)):
        assert got.dtype == want.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
