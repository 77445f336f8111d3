"""convviz.show: every stage's figure for the user's own arrays, in a notebook, without Streamlit.

The figures' numbers are read back from the Plotly spec (tests/figure_support.py decodes the typed arrays) and
compared with PyTorch in float64, computed here independently of the engine.
"""
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as TF  # noqa: E402

import convviz  # noqa: E402
from convviz.figures.encoding import meta_of  # noqa: E402
from convviz.notebook import ALIASES, EXPORT_WIDTH, build_trace, show  # noqa: E402
from convviz.stages import PAGES, STAGES, stages_of  # noqa: E402
from tests.figure_support import channel_blocks, panel_heatmaps  # noqa: E402

REPO = Path(__file__).resolve().parents[2]

# One layer with everything non-trivial: N=2, C=2, F=3, asymmetric padding (top, bottom, left, right), stride and
# dilation differing per axis; picks off their defaults.
N, C, F, H, W, KH, KW = 2, 2, 3, 7, 6, 3, 2
STRIDE, PAD, DIL = (2, 1), (1, 0, 2, 1), (1, 2)
OH, OW = (H + 1 + 0 - (KH - 1) * 1 - 1) // 2 + 1, (W + 2 + 1 - (KW - 1) * 2 - 1) // 1 + 1  # 3, 7
PICK = dict(n=1, f=2, c=1)
# Pooling: window (3, 2), padding (1, 1); transposed: x (N, CIN, 4, 3), w (CIN, COUT, 3, 2).
POOL = dict(kernel_size=(KH, KW), stride=STRIDE, padding=(1, 1))
CIN, COUT, TH, TW = 2, 3, 4, 3
TCONV = dict(stride=(2, 1), padding=(1, 0), output_padding=(1, 0), dilation=(1, 2))


def t(a) -> "torch.Tensor":
    return torch.tensor(np.asarray(a, dtype=np.float64))


@pytest.fixture(scope="module")
def arrays():
    rng = np.random.default_rng(23)
    return dict(x=rng.standard_normal((N, C, H, W)), w=rng.standard_normal((F, C, KH, KW)), b=rng.standard_normal(F),
                dout=rng.standard_normal((N, F, OH, OW)), wt=rng.standard_normal((CIN, COUT, KH, KW)),
                xt=rng.standard_normal((N, CIN, TH, TW)))


def conv_ref(x, w, b, dout, stride=STRIDE, pad=PAD, dilation=DIL, groups=1):
    """y, dx, dw, db of conv2d in float64 by PyTorch (padding (top, bottom, left, right) applied by F.pad)."""
    xt, wt, bt = (t(a).requires_grad_() for a in (x, w, b))
    top, bottom, left, right = pad
    y = TF.conv2d(TF.pad(xt, (left, right, top, bottom)), wt, bt, stride=stride, dilation=dilation, groups=groups)
    y.backward(t(dout))
    return y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


def as_json(fig) -> dict:
    return json.loads(fig.to_json())


def grids(fig: dict, name: str, final: bool = False) -> list[np.ndarray]:
    """Panel `name`'s grids (one per channel) as first drawn, or (final) as the last frame that changes them leaves
    them: accumulating panels (dx of pooling) are complete only there."""
    (hm,) = panel_heatmaps(fig, name)
    index = fig["data"].index(hm)
    if final:
        for frame in reversed(fig.get("frames", [])):
            for i, d in zip(frame["traces"], frame["data"]):
                if i == index and "z" in d:
                    return channel_blocks(hm, d["z"])
    return channel_blocks(hm)


def assert_grids(got: list[np.ndarray], want, what: str) -> None:
    want = [np.asarray(g) for g in want]
    assert len(got) == len(want), f"{what}: {len(got)} channels drawn, expected {len(want)}"
    for k, (g, e) in enumerate(zip(got, want)):
        assert g.shape == e.shape, f"{what}[{k}]: shape {g.shape}, expected {e.shape}"
        np.testing.assert_allclose(g.astype(float), e, rtol=1e-10, atol=1e-12, err_msg=f"{what}[{k}]")


def coverage_ref():
    """How many windows read each cell of the padded input: a transposed convolution of ones by ones."""
    hp, wp = H + PAD[0] + PAD[1], W + PAD[2] + PAD[3]
    cover = TF.conv_transpose2d(torch.ones(1, 1, OH, OW, dtype=torch.float64), torch.ones(1, 1, KH, KW, dtype=torch.float64),
                                stride=STRIDE, dilation=DIL)[0, 0].numpy()
    return np.pad(cover, ((0, hp - cover.shape[0]), (0, wp - cover.shape[1])))


def padded_index_ref():
    """(rows, columns) of the padded input that im2col's entry (r, l) reads, by unfolding an image of cell ids."""
    hp, wp = H + PAD[0] + PAD[1], W + PAD[2] + PAD[3]
    ids = torch.arange(hp * wp, dtype=torch.float64).reshape(1, 1, hp, wp).expand(1, C, hp, wp)
    flat = TF.unfold(ids, (KH, KW), dilation=DIL, stride=STRIDE)[0].numpy().astype(int)  # (C*KH*KW, L)
    return flat // wp, flat % wp


def pool_ref(x, dout, kind, n, c, count_include_pad=True, dilation=(1, 1)):
    """y[n, c] and dx[n, c] of PyTorch's max/avg pooling in float64."""
    xt = t(x).requires_grad_()
    if kind == "maxpool":
        y = TF.max_pool2d(xt, POOL["kernel_size"], POOL["stride"], POOL["padding"], dilation)
    else:
        y = TF.avg_pool2d(xt, POOL["kernel_size"], POOL["stride"], POOL["padding"], count_include_pad=count_include_pad)
    y.backward(t(dout))
    return y.detach().numpy()[n, c], xt.grad.numpy()[n, c]


def pool_out(dilation=(1, 1)) -> tuple[int, int]:
    """(OH, OW) of the pooling POOL with `dilation`: (4, 6) dilated by (1, 2), (4, 7) without."""
    (kh, kw), (sh, sw), (ph, pw) = POOL["kernel_size"], POOL["stride"], POOL["padding"]
    return (H + 2 * ph - dilation[0] * (kh - 1) - 1) // sh + 1, (W + 2 * pw - dilation[1] * (kw - 1) - 1) // sw + 1


def tconv_ref(x, w, n, cin, cout):
    """The part of y'[n, cout] that input channel cin gives (what the transposed stages draw), by PyTorch."""
    return TF.conv_transpose2d(t(x)[n : n + 1, cin : cin + 1], t(w)[cin : cin + 1, cout : cout + 1], stride=TCONV["stride"],
                               padding=TCONV["padding"], output_padding=TCONV["output_padding"],
                               dilation=TCONV["dilation"])[0, 0].numpy()


NET = "c3p1f3,relu,max2s1"  # a convolution to F = 3 channels, its ReLU, an overlapping max pool


def network_ref(x, seed, cell):
    """NET's activations and the input gradient of a one-hot at `cell` (n, f, i, j), by torch autograd, with the
    weights convviz makes (init_params: its numbers are the page's choice; the arithmetic on them is torch's)."""
    from convviz.network import NetSpec, init_params

    ns = NetSpec.create(NET, x.shape)
    (w, b), _, _ = init_params(ns.planned, seed, x)
    xt = t(x).requires_grad_()
    a1 = TF.conv2d(xt, t(w), t(b), padding=1)
    a3 = TF.max_pool2d(TF.relu(a1), 2, 1)
    a3[cell].backward()
    return [a1.detach().numpy(), a3.detach().numpy()], xt.grad.numpy()


def call_for(name: str, a: dict) -> dict:
    """show()'s keyword arguments for stage `name` on the test arrays."""
    if name in ("maxpool", "avgpool"):
        dilation = (1, 2) if name == "maxpool" else (1, 1)
        dout = np.random.default_rng(5).standard_normal((N, C) + pool_out(dilation))
        return dict(x=a["x"], dout=dout, **POOL, **PICK, **({"dilation": dilation} if name == "maxpool" else {}))
    if name.startswith("tconv_"):
        return dict(x=a["xt"], w=a["wt"], **TCONV, **PICK)
    if name == "network":
        return dict(x=a["x"], net=NET, cell=(1, 0), seed=3, n=1, f=2)
    return dict(x=a["x"], w=a["w"], b=a["b"], dout=a["dout"], stride=STRIDE, padding=PAD, dilation=DIL, **PICK)


def expected_panels(name: str, a: dict, kw: dict) -> dict[str, tuple[list, bool]]:
    """panel -> (its grids computed independently, read at the last frame?) for stage `name` at picks PICK."""
    n, f, c = PICK["n"], PICK["f"], PICK["c"]
    if name in ("maxpool", "avgpool"):
        y, dx = pool_ref(kw["x"], kw["dout"], name, n, c, dilation=kw.get("dilation", (1, 1)))
        return {"y": ([y], False), "dx": ([np.pad(dx, 1)], True)}  # dx drawn on the padded grid, zero in the padding
    if name.startswith("tconv_"):
        return {"dx" if name == "tconv_gradient" else "y": ([tconv_ref(a["xt"], a["wt"], n, c, f)], False)}
    if name == "network":
        acts, dx = network_ref(a["x"], kw["seed"], (1, 2) + kw["cell"])
        return {"a0": (list(a["x"][1]), False), "a3": (list(acts[-1][1]), False), "g0": (list(dx[1]), True)}
    y, dx, dw, db = conv_ref(a["x"], a["w"], a["b"], a["dout"])
    top, bottom, left, right = PAD
    xpad = np.pad(a["x"], ((0, 0), (0, 0), (top, bottom), (left, right)))
    cols = TF.unfold(t(xpad), (KH, KW), dilation=DIL, stride=STRIDE).numpy()  # (N, C*KH*KW, L)
    rows, columns = padded_index_ref()
    return {
        "shapes": {"coverage": ([coverage_ref()], False)},
        "forward": {"y": ([y[n, f]], False), "xpad": (list(xpad[n]), False), "w": (list(a["w"][f]), False)},
        "im2col_indices": {"i": ([rows], False), "j": ([columns], False)},
        "im2col_gather": {"cols": ([cols[n]], False), "xpad": (list(xpad[n]), False)},
        "im2col_product": {"y": (list(y[n]), False), "Y": ([y[n].reshape(F, -1)], False), "cols": ([cols[n]], False)},
        "strided": {"xpad": (list(xpad[n]), False), "window": (list(cols[n, :, 0].reshape(C, KH, KW)), False)},
        "transposed": {"dx": ([dx[n, c]], False)},
        "col2im": {"dx": (list(dx[n]), False)},
        "weight_grad": {"dw": (list(dw[f]), False), "db": ([db[None, :]], False)},
        "groups": {"y": (list(y[n]), False), "x": (list(a["x"][n]), False)},
        "gradcheck": {"dx_a": (list(dx[n]), False), "dw_a": (list(dw[f]), False), "db_a": ([db[None, :]], False)},
    }[name]


# ---------------------------------------------------------------------------------------------- every stage


@pytest.mark.parametrize("name", list(STAGES))
def test_every_stage_draws_the_users_arrays(name, arrays):
    kw = call_for(name, arrays)
    fig = show(name, **kw)
    assert isinstance(fig, go.Figure)
    spec = as_json(fig)
    for panel, (want, final) in expected_panels(name, arrays, kw).items():
        assert_grids(grids(spec, panel, final), want, f"{name}: panel {panel}")
    # the exported files' figure: Plotly's own player and step titles, the stage's rows and size
    lay = spec["layout"]
    assert lay["width"] <= EXPORT_WIDTH
    assert lay["title"]["text"].startswith("<b>Step 1/")
    if len(spec["frames"]) > 1:
        assert lay["updatemenus"] and lay["sliders"]
        assert all(fr["layout"]["title"]["text"].startswith("<b>Step ") for fr in spec["frames"])
    shown = {t["hovertemplate"].rsplit("<extra>", 1)[1][:-len("</extra>")] for t in spec["data"]
             if t["type"] == "heatmap" and t.get("hovertemplate")}
    assert {p for row in STAGES[name].rows_of(build_trace(name, **kw)) for p in row} <= shown


def test_every_stage_has_a_builder():
    from convviz.notebook import stage_names

    assert set(stage_names()) == set(STAGES)


STAGE_CALLS = """
import sys
import numpy as np
import convviz
assert "plotly" not in sys.modules and "streamlit" not in sys.modules
from convviz.stages import STAGES
rng = np.random.default_rng(0)
x, w = rng.standard_normal((2, 2, 6, 6)), rng.standard_normal((3, 2, 3, 3))
for name in STAGES:
    if name in ("maxpool", "avgpool"):
        fig = convviz.show(name, x=x, kernel_size=2, stride=2, n=1, c=1)
    elif name.startswith("tconv_"):
        fig = convviz.show(name, x=x, w=rng.standard_normal((2, 3, 3, 3)), stride=2, output_padding=1, n=1, c=1, f=2)
    elif name == "network":
        fig = convviz.show(name, x=x, net="c3,relu,avg2s1", cell=(1, 0), n=1, f=1)
    else:
        fig = convviz.show(name, x=x, w=w, stride=2, padding=1, n=1, f=2, c=1)
    fig.to_json()
    print(name, type(fig).__name__)
assert "streamlit" not in sys.modules, "convviz.show imported streamlit"
assert not any(m == "convviz.ui" or m.startswith("convviz.ui.") for m in sys.modules), "convviz.show imported convviz.ui"
print("OK")
"""


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=REPO, capture_output=True, text=True,
                          timeout=300)


def test_show_draws_every_stage_in_a_fresh_interpreter_without_streamlit():
    run = run_python(STAGE_CALLS)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.split()
    assert lines[-1] == "OK"
    for name in STAGES:
        assert f"{name} AnimatedFigure" in run.stdout


def test_import_convviz_loads_neither_plotly_nor_streamlit():
    run = run_python("""
        import sys
        import convviz
        print(sorted(m for m in ("plotly", "streamlit", "convviz.notebook", "convviz.figures") if m in sys.modules))
        assert "show" in dir(convviz)
        print(callable(convviz.show), "convviz.notebook" in sys.modules, "streamlit" in sys.modules)
    """)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split("\n")[:2] == ["[]", "True True False"]


def test_other_missing_attributes_still_raise(arrays):
    with pytest.raises(AttributeError, match="no attribute 'shoe'"):
        convviz.shoe  # noqa: B018
    assert convviz.show is show


# ---------------------------------------------------------------------------------------------- picks


@pytest.mark.parametrize("n", range(N))
@pytest.mark.parametrize("f", range(F))
def test_picks_n_and_f_choose_the_forward_figures_sample_and_channel(arrays, n, f):
    y = conv_ref(arrays["x"], arrays["w"], arrays["b"], arrays["dout"])[0]
    spec = as_json(show("forward", x=arrays["x"], w=arrays["w"], b=arrays["b"], stride=STRIDE, padding=PAD,
                        dilation=DIL, n=n, f=f))
    assert_grids(grids(spec, "y"), [y[n, f]], "y")
    assert_grids(grids(spec, "w"), list(arrays["w"][f]), "w")


@pytest.mark.parametrize("n", range(N))
@pytest.mark.parametrize("c", range(C))
def test_picks_n_and_c_choose_the_input_gradients_sample_and_channel(arrays, n, c):
    dx = conv_ref(arrays["x"], arrays["w"], arrays["b"], arrays["dout"])[1]
    spec = as_json(show("transposed", x=arrays["x"], w=arrays["w"], dout=arrays["dout"], stride=STRIDE, padding=PAD,
                        dilation=DIL, n=n, c=c))
    assert_grids(grids(spec, "dx"), [dx[n, c]], "dx")


@pytest.mark.parametrize("n,c", [(0, 0), (0, 1), (1, 0), (1, 1)])
def test_picks_n_and_c_choose_the_pooled_sample_and_channel(arrays, n, c):
    kw = call_for("maxpool", arrays)
    y, dx = pool_ref(kw["x"], kw["dout"], "maxpool", n, c, dilation=(1, 2))
    spec = as_json(show("maxpool", **{**kw, "n": n, "c": c}))
    assert_grids(grids(spec, "y"), [y], "y")
    assert_grids(grids(spec, "dx", final=True), [np.pad(dx, 1)], "dx")


@pytest.mark.parametrize("n,c,f", [(0, 0, 0), (1, 0, 2), (0, 1, 1), (1, 1, 0)])
def test_picks_choose_the_transposed_layers_sample_and_channel_pair(arrays, n, c, f):
    spec = as_json(show("tconv_scatter", x=arrays["xt"], w=arrays["wt"], **TCONV, n=n, c=c, f=f))
    assert_grids(grids(spec, "y"), [tconv_ref(arrays["xt"], arrays["wt"], n, c, f)], "y")
    assert_grids(grids(spec, "x"), [arrays["xt"][n, c]], "x")


def test_the_channel_pairs_add_up_to_pytorchs_transposed_convolution(arrays):
    full = TF.conv_transpose2d(t(arrays["xt"]), t(arrays["wt"]), stride=TCONV["stride"], padding=TCONV["padding"],
                               output_padding=TCONV["output_padding"], dilation=TCONV["dilation"]).numpy()
    total = sum(grids(as_json(show("tconv_direct", x=arrays["xt"], w=arrays["wt"], **TCONV, n=1, c=c, f=2)), "y")[0]
                for c in range(CIN))
    np.testing.assert_allclose(total, full[1, 2], rtol=1e-10, atol=1e-12)


def test_grouped_layers(arrays):
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((2, 4, 5, 5)), rng.standard_normal((6, 2, 3, 3)), rng.standard_normal(6)
    y = conv_ref(x, w, b, np.zeros((2, 6, 5, 5)), stride=1, pad=(1, 1, 1, 1), dilation=1, groups=2)[0]
    spec = as_json(show("grouped", x=x, w=w, b=b, padding=1, groups=2, n=1))
    assert_grids(grids(spec, "y"), list(y[1]), "y")
    conn = grids(spec, "connections")[0]
    np.testing.assert_array_equal(conn, np.kron(np.eye(2), np.ones((3, 2))))  # f reads c only within its group
    assert_grids(grids(as_json(show("forward", x=x, w=w, b=b, padding=1, groups=2, n=1, f=4)), "y"), [y[1, 4]], "y")


# ---------------------------------------------------------------------------------------------- defaults, shapes


def test_b_defaults_to_zeros_and_dout_to_ones(arrays):
    x, w = arrays["x"], arrays["w"]
    y, dx, dw, db = conv_ref(x, w, np.zeros(F), np.ones((N, F, OH, OW)))
    layer = dict(stride=STRIDE, padding=PAD, dilation=DIL)
    assert_grids(grids(as_json(show("forward", x=x, w=w, **layer, n=1, f=1)), "y"), [y[1, 1]], "y")
    assert_grids(grids(as_json(show("col2im", x=x, w=w, **layer, n=1)), "dx"), list(dx[1]), "dx")
    assert_grids(grids(as_json(show("weight_grad", x=x, w=w, **layer, f=2)), "db"), [db[None, :]], "db")
    y2 = conv_ref(x, w, np.full(F, 0.5), np.ones((N, F, OH, OW)))[0]  # a number is every channel's bias
    assert_grids(grids(as_json(show("forward", x=x, w=w, b=0.5, **layer, f=2)), "y"), [y2[0, 2]], "y")
    _, pdx = pool_ref(x, np.ones((N, C) + pool_out()), "avgpool", 0, 1)
    assert_grids(grids(as_json(show("avgpool", x=x, **POOL, c=1)), "dx", final=True), [np.pad(pdx, 1)], "dx")


def test_lower_rank_arrays_are_promoted(arrays):
    x2, w2 = arrays["x"][0, 0], arrays["w"][0, 0]  # (H, W), (KH, KW)
    y = conv_ref(x2[None, None], w2[None, None], np.zeros(1), np.zeros((1, 1, OH, OW)))[0]
    assert_grids(grids(as_json(show("forward", x=x2, w=w2, stride=STRIDE, padding=PAD, dilation=DIL)), "y"), [y[0, 0]], "y")
    x3, w3 = arrays["x"][1], arrays["w"][2]  # (C, H, W), (C, KH, KW): one sample, one filter
    y = conv_ref(x3[None], w3[None], np.zeros(1), np.zeros((1, 1, OH, OW)))[0]
    assert_grids(grids(as_json(show("forward", x=x3, w=w3, stride=STRIDE, padding=PAD, dilation=DIL)), "y"), [y[0, 0]], "y")
    d2 = np.random.default_rng(9).standard_normal((OH, OW))  # dout (OH, OW) for one sample of one channel
    dx = conv_ref(x2[None, None], w2[None, None], np.zeros(1), d2[None, None])[1]
    spec = as_json(show("transposed", x=x2, w=w2, dout=d2, stride=STRIDE, padding=PAD, dilation=DIL))
    assert_grids(grids(spec, "dx"), [dx[0, 0]], "dx")
    wt3 = arrays["wt"][:, 1]  # transposed (CIN, KH, KW): one output channel
    spec = as_json(show("tconv_scatter", x=arrays["xt"][0], w=wt3, **TCONV, c=1))
    assert_grids(grids(spec, "y"), [tconv_ref(arrays["xt"][:1], wt3[:, None], 0, 1, 0)], "y")
    spec = as_json(show("maxpool", x=arrays["x"][0, 1], **POOL))  # (H, W) pooled
    assert_grids(grids(spec, "y"), [pool_ref(arrays["x"][:1, 1:], np.ones((1, 1) + pool_out()), "maxpool", 0, 0)[0]], "y")


def test_torch_tensors_and_lists_are_accepted(arrays):
    x = torch.tensor(arrays["x"], requires_grad=True)
    y = conv_ref(arrays["x"], arrays["w"], np.zeros(F), np.zeros((N, F, OH, OW)))[0]
    spec = as_json(show("forward", x=x, w=arrays["w"].tolist(), stride=STRIDE, padding=PAD, dilation=DIL, f=1))
    assert_grids(grids(spec, "y"), [y[0, 1]], "y")


@pytest.mark.parametrize("call,argument", [
    (dict(x=np.zeros((1, 1, 1, 5, 5)), w=np.ones((3, 3))), "x"),
    (dict(x=np.zeros(5), w=np.ones((3, 3))), "x"),
    (dict(x=np.zeros((2, 3, 5, 5)), w=np.ones((4, 2, 3, 3))), "w"),
    (dict(x=np.zeros((5, 5)), w=np.ones((1, 1, 1, 3, 3))), "w"),
    (dict(x=np.zeros((5, 5)), w=np.ones((2, 1, 3, 3)), b=np.zeros(3)), "b"),
    (dict(x=np.zeros((5, 5)), w=np.ones((3, 3)), b=np.zeros((1, 1))), "b"),
    (dict(x=np.zeros((5, 5)), w=np.ones((3, 3)), b=[np.nan]), "b"),
    (dict(x=np.zeros((5, 5)), w=None), "w"),
    (dict(x=None, w=np.ones((3, 3))), "x"),
    (dict(x="abc", w=np.ones((3, 3))), "x"),
    (dict(x=np.zeros((2, 1, 5, 5)), w=np.ones((3, 3)), n=2), "n"),
    (dict(x=np.zeros((5, 5)), w=np.ones((2, 1, 3, 3)), f=2), "f"),
    (dict(x=np.zeros((5, 5)), w=np.ones((3, 3)), f=-1), "f"),
    (dict(x=np.zeros((5, 5)), w=np.ones((3, 3)), n=0.5), "n"),
    (dict(x=np.zeros((5, 5)), w=np.ones((7, 7))), "kernel_size"),  # no window fits: the engine's own message
])
def test_bad_arguments_raise_a_value_error_naming_the_argument(call, argument):
    with pytest.raises(ValueError, match=rf"^{argument}\b"):
        show("forward", **call)


@pytest.mark.parametrize("stage,call,argument", [
    ("transposed", dict(x=np.zeros((2, 1, 5, 5)), w=np.ones((3, 3)), dout=np.ones((2, 1, 4, 4))), "dout"),
    ("col2im", dict(x=np.zeros((5, 5)), w=np.ones((3, 3)), dout=np.ones((3, 3, 3))), "dout"),
    ("transposed", dict(x=np.zeros((1, 2, 5, 5)), w=np.ones((1, 2, 3, 3)), c=2), "c"),
    ("tconv_scatter", dict(x=np.zeros((1, 2, 4, 4)), w=np.ones((3, 2, 3, 3))), "w"),
    ("tconv_scatter", dict(x=np.zeros((1, 2, 4, 4)), w=np.ones((2, 3, 3, 3)), f=3), "f"),
    ("tconv_direct", dict(x=np.zeros((4, 4)), w=np.ones((3, 3)), padding="same"), "padding"),
    ("tconv_direct", dict(x=np.zeros((4, 4)), w=np.ones((3, 3)), groups=2), "groups"),
    ("tconv_gradient", dict(x=np.zeros((4, 4)), w=np.ones((3, 3)), stride=2, output_padding=2), "output_padding"),
    ("maxpool", dict(x=np.zeros((1, 2, 4, 4))), "kernel_size"),
    ("maxpool", dict(x=np.zeros((1, 2, 4, 4)), kernel_size=2, c=2), "c"),
    ("maxpool", dict(x=np.zeros((1, 2, 4, 4)), kernel_size=2, padding=2), "padding"),
    ("maxpool", dict(x=np.zeros((1, 2, 4, 4)), kernel_size=2, dout=np.ones((1, 2, 4, 4))), "dout"),
    ("avgpool", dict(x=np.zeros((4, 4)), kernel_size=2, dilation=2), "dilation"),
    ("forward", dict(x=np.zeros((4, 4)), w=np.ones((3, 3)), kernel_size=2), "kernel_size"),
    ("forward", dict(x=np.zeros((4, 4)), w=np.ones((3, 3)), output_padding=1), "output_padding"),
    ("groups", dict(x=np.zeros((1, 3, 5, 5)), w=np.ones((4, 1, 3, 3)), groups=3), "groups"),
])
def test_bad_arguments_of_each_kind_of_stage(stage, call, argument):
    with pytest.raises(ValueError, match=rf"^{argument}\b"):
        show(stage, **call)


def test_an_unknown_stage_lists_the_valid_names():
    with pytest.raises(ValueError) as err:
        show("fwd", x=np.zeros((4, 4)), w=np.ones((3, 3)))
    message = str(err.value)
    assert message.startswith("stage: unknown stage 'fwd'")
    for name in list(STAGES) + list(ALIASES):
        assert repr(name) in message


def test_an_unknown_option_is_a_type_error():
    with pytest.raises(TypeError, match="unexpected option 'kernel'"):
        show("maxpool", x=np.zeros((4, 4)), kernel=2)


# ---------------------------------------------------------------------------------------------- aliases, size


def test_aliases_are_the_pages_first_stages():
    expected = {p.url_path: stages_of(p.url_path)[0].name for p in PAGES if stages_of(p.url_path)}
    assert {page: ALIASES.get(page, page) for page in expected} == expected
    assert ALIASES["input_gradient"] == "transposed"
    assert ALIASES["conv_transpose"] == "tconv_scatter"
    assert ALIASES["grouped"] == "groups"
    assert ALIASES["weight_gradient"] == "weight_grad"
    assert set(ALIASES.values()) <= set(STAGES) and not set(ALIASES) & set(STAGES)


@pytest.mark.parametrize("page", sorted(ALIASES))
def test_a_page_name_draws_its_first_stage(page, arrays):
    stage = ALIASES[page]
    kw = call_for(stage, arrays)
    assert show(page, **kw).to_json() == show(stage, **kw).to_json()


def test_the_docstring_example(arrays):
    x, w = arrays["x"], arrays["w"]
    fig = convviz.show("input_gradient", x=x, w=w, stride=2, padding="same")
    spec = as_json(fig)
    assert spec["layout"]["title"]["text"].startswith("<b>Step 1/")
    layer = convviz.spec_for(x.shape, w.shape, 2, "same")
    dx = conv_ref(x, w, np.zeros(F), np.ones(layer.output_shape), stride=2,
                  pad=(layer.top, layer.bottom, layer.left, layer.right), dilation=1)[1]
    assert_grids(grids(spec, "dx"), [dx[0, 0]], "dx")
    assert "convviz.show(\"input_gradient\", x=x, w=w, stride=2, padding=\"same\")" in show.__doc__


def test_width_option_and_the_exported_files_default_size(arrays):
    kw = dict(x=np.random.default_rng(1).standard_normal((3, 12, 12)), w=np.ones((4, 3, 3, 3)), padding=1)
    wide = show("im2col_product", **kw)
    narrow = show("im2col_product", **kw, width=500)
    assert 500 < wide.layout.width <= EXPORT_WIDTH
    assert narrow.layout.width <= 500
    assert meta_of(as_json(narrow))["frame_steps"]


def test_the_figure_renders_in_a_notebook_with_its_frames(arrays):
    fig = show("forward", x=arrays["x"], w=arrays["w"], padding=1)
    before = pio.renderers.default
    try:
        pio.renderers.default = "plotly_mimetype"  # what Jupyter, JupyterLab and VS Code display
        bundle = fig._repr_mimebundle_()
    finally:
        pio.renderers.default = before
    spec = bundle["application/vnd.plotly.v1+json"]
    assert len(spec["frames"]) == len(as_json(fig)["frames"]) > 1
    assert spec["layout"]["sliders"]
