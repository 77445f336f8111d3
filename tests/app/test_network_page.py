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


def drawn_channel(fig: dict, name: str) -> int:
    """The channel a panel's title names ('a1[c=2] = c3' -> 2, 'dL/da1[c=2]' -> 2); 0 for a map titled without one."""
    titles = [" ".join(re.sub(r"<[^>]+>", " ", a.get("text", "")).split())  # no tags; a wrapped title on one line
              for a in fig["layout"].get("annotations", [])]
    pattern = (rf"(?:input )?{name}(?:\[c=(\d+)\])? = " if name.startswith("a")
               else rf"dL/da{name[1:]}(?:\[c=(\d+)\])?$")
    (match,) = [m for m in (re.match(pattern, t) for t in titles) if m]
    return int(match.group(1) or 0)


CASES = {
    "defaults": {},
    "conv relu pool conv": {"net": "c3p1,relu,max2,c3", "h": "8", "w": "8", "data": "random", "ri": "1", "rj": "0"},
    "strided checkerboard, 2 channels": {"net": "c3s2f2,c3s2", "h": "11", "w": "11", "cin": "2", "data": "random",
                                         "seed": "4", "rj": "1"},
    "dilation, groups, avg pool": {"net": "c3d2f4g2,relu,avg2s1,c1f2", "h": "9", "w": "9", "cin": "2", "data": "image",
                                   "rf": "1", "rc": "1"},
    "many channels": {"net": "c3f4,relu,c3", "h": "8", "w": "8", "cin": "3", "data": "random", "rf": "2", "rc": "1",
                      "ri": "1", "rj": "2"},
}


@pytest.mark.parametrize("query", CASES.values(), ids=CASES.keys())
def test_every_activation_and_the_input_gradient_match_torch(query):
    """Each map is drawn as the one channel its title names, with torch's numbers for that channel."""
    at = open_page(PAGE, query)
    fig = stage_figure(at, "network")
    s, _ = parse_query(query)
    ns = NetSpec.create(s.net, (s.n, s.cin, s.h, s.w))
    _, fo, oh, ow = ns.output_shape
    i, j = min(s.ri, oh - 1), min(s.rj, ow - 1)
    acts, dx = oracle(query, (0, min(s.rf, fo - 1), i, j))
    for l, a in enumerate(acts):
        c = drawn_channel(fig, f"a{l}")
        np.testing.assert_allclose(panel(fig, f"a{l}"), [a[0, c]], rtol=1e-12, atol=1e-12, err_msg=f"a{l}")
    c0 = drawn_channel(fig, "g0")
    assert c0 == drawn_channel(fig, "a0")
    np.testing.assert_allclose(panel_at(fig, "g0", last_step(fig)), [dx[0, c0]], atol=1e-12)
    assert not at.error


def test_many_channels_draw_one_channel_per_map_on_the_chosen_cells_path():
    """c3f4,relu,c3 on C = 3: every map has 3 or 4 channels; each is drawn as one, the one its title names. By hand:
    the cell's channel f = 2 on a3; the last convolution (4 -> 4, one group) followed to its input channel rc = 1, kept
    by the ReLU (a2, a1), then the first (3 -> 4) to its input channel 1. rc = 3 is past the input's 3 channels: the
    input shows its last, channel 2."""
    at = open_page(PAGE, CASES["many channels"])
    fig = stage_figure(at, "network")
    assert [drawn_channel(fig, f"a{l}") for l in range(4)] == [1, 1, 1, 2]
    assert [drawn_channel(fig, f"g{l}") for l in range(4)] == [1, 1, 1, 2]
    assert all(len(panel(fig, name)) == 1 for name in ("a0", "a1", "a2", "a3", "g0", "g3"))
    assert at.segmented_control(key="cv_rf").options == ["0", "1", "2", "3"]  # the last map's 4 channels
    assert at.segmented_control(key="cv_rc").options == ["0", "1", "2", "3"]  # the widest group: 4 input channels
    at.segmented_control(key="cv_rc").set_value(3).run()
    assert not at.exception and not at.error
    fig = stage_figure(at, "network")
    assert [drawn_channel(fig, f"a{l}") for l in range(4)] == [2, 3, 3, 2]
    assert at.query_params["rc"] == "3"


def test_one_channel_maps_keep_plain_titles_and_no_channel_pickers():
    at = open_page(PAGE, {})
    fig = stage_figure(at, "network")
    titles = [" ".join(re.sub(r"<[^>]+>", " ", a.get("text", "")).split()) for a in fig["layout"]["annotations"]]
    assert "input a0 = x[0]" in titles and "a1 = c3" in titles and not any("[c=" in t for t in titles)
    keys = {w.key for w in at.sidebar if getattr(w, "key", None)}
    assert {"cv_ri", "cv_rj"} <= keys and not {"cv_rf", "cv_rc"} & keys


@pytest.mark.parametrize("query, note", [
    ({"rf": "inf", "rc": "-1"}, ["rf", "rc"]), ({"rf": "8", "rc": "1e3"}, ["rf", "rc"]), ({"rc": "nan"}, ["rc"]),
])
def test_hostile_channel_values_in_a_link_fall_back_with_a_note(query, note):
    at = open_page(PAGE, {"net": "c3f2", **query})
    warned = " ".join(w.value.replace("\\", "") for w in at.warning)
    assert all(f"{key}:" in warned for key in note), warned
    assert not at.error and meta_of(stage_figure(at, "network"))["stage"] == "network"
    assert not set(note) & set(at.query_params)


def test_a_cell_channel_past_the_output_is_drawn_as_its_last_with_a_sentence():
    at = open_page(PAGE, {"net": "c3f2", "rf": "5"})  # two output channels: 5 is held at 1
    assert any("(f, i, j) = (5, 0, 0) is drawn as (1, 0, 0)" in c.value for c in at.caption)
    assert drawn_channel(stage_figure(at, "network"), "a1") == 1


def test_the_one_hot_gradient_never_leaves_the_receptive_field_and_the_check_says_so():
    at = open_page(PAGE, CASES["conv relu pool conv"])
    assert any("outside the receptive field: positions = 0" in s.value for s in at.success)
    table = at.table[0].value  # the per-layer table: receptive field of every layer's cells on the input
    assert list(table.iloc[:, 4]) == ["1", "3 x 3", "3 x 3", "4 x 4", "8 x 8"]  # 1 + 2; +1*1 (max2); +2*2 (c3 after s2)


def test_an_impossible_stack_says_which_layer_and_how_to_fix_it():
    at = open_page(PAGE, {"net": "c5,c5"})
    assert not at.get("plotly_chart")
    (err,) = at.error
    assert "Layer 2 (c5) gets a 2x2 map" in err.value and "larger input" in err.value
    assert err.value.startswith("These settings do not make a valid stack.")


def test_a_broken_link_falls_back_to_the_default_stack_with_a_note():
    at = open_page(PAGE, {"net": "c3,conv9"})
    assert any("net: Layer 2" in w.value.replace("\\", "") for w in at.warning)
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
    assert any("(f, i, j) = (0, 5, 0) is drawn as (0, 1, 0)" in c.value for c in at.caption)


def test_options_in_any_order_open_and_the_link_and_box_keep_the_canonical_text():
    at = open_page(PAGE, {"net": "c3p1s2,relu", "h": "7", "w": "7"})
    assert not at.warning and not at.error
    assert at.query_params["net"] == "c3s2p1,relu" and at.text_input(key="cv_net").value == "c3s2p1,relu"
    at.text_input(key="cv_net").set_value("MAX3P1S2 , c3d1").run()  # typed: rewritten the same way
    assert not at.exception and not at.error
    assert at.text_input(key="cv_net").value == at.query_params["net"] == "max3s2p1,c3"
    at.text_input(key="cv_net").set_value("c3s2p1s1").run()  # an option twice: explained, the text kept to be fixed
    assert at.text_input(key="cv_net").value == "c3s2p1s1"
    assert any("'s' (stride) is given twice" in e.value for e in at.error)


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
        np.testing.assert_allclose(printed_numbers(printed, f"dw{l}", f"db{l}"), dw.ravel(), atol=1e-4)


def printed_numbers(text: str, name: str, until: str) -> list[float]:
    """The numbers printed after 'name = ' (at a line's start) up to 'until'."""
    part = re.split(rf"(?:^|\n){name} = ", text)[1].split(until)[0]
    return [float(v) for v in re.findall(r"-?\d+\.?\d*(?:e[-+]?\d+)?", part)]


def test_the_weights_box_prints_the_weights_and_biases_that_make_every_convolutions_output():
    """The printed w_l, b_l are the layer's own: torch's conv2d with them, on the layer's input (torch's activations
    for the page's settings), gives the layer's output; the numbers are small whole numbers, printed without '1.'."""
    query = CASES["dilation, groups, avg pool"]  # c3d2f4g2: grouped and dilated; c1f2: 1 x 1
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(query)
    at.session_state["cv_net_dw"] = True
    at.switch_page(PAGE)
    at.run()
    assert not at.exception
    printed = "\n".join(c.value for c in at.code)
    acts, _ = oracle(query, (0, 1, 0, 0))
    for l, (groups, dilation, shape) in ((1, (2, 2, (4, 1, 3, 3))), (4, (1, 1, (2, 4, 1, 1)))):
        w = np.array(printed_numbers(printed, f"w{l}", f"b{l}")).reshape(shape)
        b = np.array(printed_numbers(printed, f"b{l}", f"dw{l}"))
        assert np.array_equal(w, np.round(w)) and np.abs(w).max() <= 1  # readable: -1, 0, 1
        y = torch.nn.functional.conv2d(torch.tensor(acts[l - 1]), torch.tensor(w), torch.tensor(b), dilation=dilation,
                                       groups=groups)
        np.testing.assert_allclose(y.numpy(), acts[l], atol=1e-12)
    assert "1." not in re.sub(r"-?\d+\.\d", "", printed.split("dw1")[0])  # whole numbers print as 1, not 1.
