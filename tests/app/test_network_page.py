"""The network page under AppTest, with PyTorch (float64, autograd) as the oracle.

The weights are convviz's own choice (convviz.network.init_params: small integers, biases centring each convolution);
every number computed from them here is torch's: the activations, and the one-hot gradient carried back to the input.
"""
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn as nn
from streamlit.testing.v1 import AppTest

from convviz.data import make_input
from convviz.figures.encoding import meta_of
from convviz.network import NetSpec, init_params
from convviz.ui.export import view_script
from convviz.ui.settings import parse_query
from tests.app.test_app_export import printed_array
from tests.app.test_new_stages import last_step, open_page, stage_figure
from tests.app.test_pages import APP
from tests.figure_support import panel_grids as panel
from tests.figure_support import panel_grids_at as panel_at

PAGE = "pages/network.py"


def torch_stack(ns: NetSpec, params) -> nn.Sequential:
    """The stack as torch modules carrying convviz's weights."""
    mods = []
    for p, prm in zip(ns.planned, params):
        L = p.layer
        if L.kind == "conv":
            conv = nn.Conv2d(p.in_shape[1], p.out_shape[1], L.k, L.s, L.p, L.d, L.g).double()
            conv.weight.data, conv.bias.data = torch.tensor(prm[0]), torch.tensor(prm[1])
            mods.append(conv)
        elif L.kind == "relu":
            mods.append(nn.ReLU())
        elif L.kind == "max":
            mods.append(nn.MaxPool2d(L.k, L.s, L.p))
        else:
            mods.append(nn.AvgPool2d(L.k, L.s, L.p))
    return nn.Sequential(*mods)


def oracle(query: dict, cell: tuple[int, int, int, int]):
    """(activations of every layer, the input gradient of a one-hot at `cell`) for the page's settings, by torch."""
    s, notes = parse_query(query)
    assert not notes
    x = make_input(s.array_spec(), s.data, s.seed)
    ns = NetSpec.create(s.net, x.shape)
    net = torch_stack(ns, init_params(ns.planned, s.seed, x))
    xt = torch.tensor(x, requires_grad=True)
    acts, a = [x], xt
    for m in net:
        a = m(a)
        acts.append(a.detach().numpy())
    a[cell].backward()
    return acts, xt.grad.numpy()


CASES = {
    "defaults": {},
    "conv relu pool conv": {"net": "c3p1,relu,max2,c3", "h": "8", "w": "8", "data": "random", "ri": "1", "rj": "0"},
    "strided checkerboard, 2 channels": {"net": "c3s2f2,c3s2", "h": "11", "w": "11", "cin": "2", "data": "random",
                                         "seed": "4", "rj": "1"},
    "dilation, groups, avg pool": {"net": "c3d2f4g2,relu,avg2s1,c1f2", "h": "9", "w": "9", "cin": "2", "data": "image"},
}


@pytest.mark.parametrize("query", CASES.values(), ids=CASES.keys())
def test_every_activation_and_the_input_gradient_match_torch(query):
    at = open_page(PAGE, query)
    fig = stage_figure(at, "network")
    s, _ = parse_query(query)
    ns = NetSpec.create(s.net, (s.n, s.cin, s.h, s.w))
    _, _, oh, ow = ns.output_shape
    i, j = min(s.ri, oh - 1), min(s.rj, ow - 1)
    acts, dx = oracle(query, (0, 0, i, j))
    for l, a in enumerate(acts):
        np.testing.assert_allclose(panel(fig, f"a{l}"), list(a[0]), rtol=1e-12, atol=1e-12, err_msg=f"a{l}")
    np.testing.assert_allclose(panel_at(fig, "g0", last_step(fig)), list(dx[0]), atol=1e-12)
    assert not at.error


def test_the_one_hot_gradient_never_leaves_the_receptive_field_and_the_check_says_so():
    at = open_page(PAGE, CASES["conv relu pool conv"])
    assert any("outside the receptive field: cells = 0" in s.value for s in at.success)
    table = at.table[0].value  # the per-layer table: receptive field of every layer's cells on the input
    assert list(table.iloc[:, 4]) == ["1", "3 x 3", "3 x 3", "4 x 4", "8 x 8"]  # 1 + 2; +1*1 (max2); +2*2 (c3 after s2)


def test_an_impossible_stack_says_which_layer_and_how_to_fix_it():
    at = open_page(PAGE, {"net": "c5,c5"})
    assert not at.get("plotly_chart")
    (err,) = at.error
    assert "layer 2 (c5) gets a 2x2 map" in err.value and "larger input" in err.value


def test_a_broken_link_falls_back_to_the_default_stack_with_a_note():
    at = open_page(PAGE, {"net": "c3,conv9"})
    assert any("net: layer 2" in w.value.replace("\\", "") for w in at.warning)
    assert meta_of(stage_figure(at, "network"))["stage"] == "network"


def test_typing_a_stack_redraws_and_an_example_sets_the_input_size_too():
    at = open_page(PAGE, {})
    at.text_input(key="cv_net").set_value("c3,relu,max2").run()
    assert not at.exception and not at.error
    fig = stage_figure(at, "network")
    assert len(panel(fig, "a3")[0]) == 2  # 6 -> 4 -> 4 -> 2
    at.selectbox(key="cv_net_example").set_value("Dilated stack 1, 2, 4: field 15").run()
    assert not at.exception and not at.error
    assert (at.session_state["cv_net"], at.session_state["cv_h"]) == ("c3,c3d2,c3d4", 16)
    assert "receptive field 15 x 15" in " ".join(c.value for c in at.caption)


def test_a_chosen_cell_outside_the_output_is_drawn_inside_with_a_sentence():
    at = open_page(PAGE, {"ri": "5"})  # the default stack's output is 2 x 2
    assert any("is drawn as (1, 0)" in c.value for c in at.caption)


def test_code_for_this_view_prints_what_torch_computes(tmp_path):
    query = CASES["conv relu pool conv"]
    s, _ = parse_query(query)
    path = tmp_path / "view.py"
    path.write_text(view_script("network", s))
    run = subprocess.run([sys.executable, "-I", str(path)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    acts, dx = oracle(query, (0, 0, 1, 0))
    for l, a in enumerate(acts):
        np.testing.assert_allclose(printed_array(run.stdout, f"a{l}"), a, rtol=1e-7)
    np.testing.assert_allclose(printed_array(run.stdout, "g0"), dx, rtol=1e-7, atol=1e-9)


def test_the_weight_gradients_box_prints_torchs_dw_of_every_convolution():
    query = CASES["conv relu pool conv"]
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(query)
    at.session_state["cv_net_dw"] = True  # the box is lazy: open it, as a click does
    at.switch_page(PAGE)
    at.run()
    assert not at.exception
    s, _ = parse_query(query)
    x = make_input(s.array_spec(), s.data, s.seed)
    ns = NetSpec.create(s.net, x.shape)
    net = torch_stack(ns, init_params(ns.planned, s.seed, x))
    net(torch.tensor(x))[0, 0, 1, 0].backward()  # the page's cell: ri = 1, rj = 0
    printed = " ".join(c.value for c in at.code)
    for l in (1, 4):  # the two convolutions
        dw = net[l - 1].weight.grad.numpy()
        text = printed.split(f"dw{l} = ")[1].split(f"db{l}")[0]
        got = [float(v) for v in re.findall(r"-?\d+\.?\d*(?:e[-+]?\d+)?", text)]
        np.testing.assert_allclose(got, dw.ravel(), atol=1e-4)
