"""The transposed-convolution page and average pooling under AppTest, with PyTorch (float64) as the oracle.

Expected numbers come from torch and the public data presets, never from the page's traces; expected sizes in the
guide's cases are Dumoulin & Visin's (2016, chapter 4), written here from the paper's relationships.
"""
import json
from urllib.parse import parse_qsl

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from streamlit.testing.v1 import AppTest

from convviz.data import make_dout, make_input, make_kernel
from convviz.figures.encoding import meta_of
from convviz.stages import POOL_DOUT_SEED
from convviz.ui.settings import parse_query
from tests.app.test_pages import APP, figures
from tests.figure_support import panel_grids as panel
from tests.figure_support import panel_grids_at as panel_at

TCONV_PARTS = ("1. As a scatter", "2. As a direct convolution", "3. As the gradient of a convolution")


def t64(a):
    return torch.tensor(np.asarray(a), dtype=torch.float64)


def open_page(page: str, query: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(query)
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def stage_figure(at: AppTest, stage: str) -> dict:
    (fig,) = [f for f in figures(at) if meta_of(f).get("stage") == stage]
    return fig


def last_step(fig: dict) -> int:
    return json.loads(fig["layout"]["meta"])["steps"] - 1


def torch_transposed(query: dict) -> np.ndarray:
    """y' of the transposed layer the settings describe, by torch: x' and w from the public presets (w's (F, C)
    layout read as the transposed (CIN, COUT) one)."""
    s, notes = parse_query(query)
    assert not notes
    shapes = s.array_spec()
    x = make_input(shapes, s.data, s.seed)
    w = make_kernel(shapes, s.kernel, s.seed).transpose(1, 0, 2, 3)  # (CIN, COUT, KH, KW)
    p = (s.pt, s.pl) if s.pad == "custom" else (0, 0)
    return F.conv_transpose2d(t64(x), t64(w), None, (s.sh, s.sw), p, (s.oph, s.opw), 1, (s.dh, s.dw)).numpy()


# ------------------------------------------------------------------------------------ transposed convolution

GUIDE_SIZES = [  # (i', k, s, p, a) -> o' = s(i' - 1) + k - 2p + a, the guide's relationships 8-14
    ((2, 3, 1, 0, 0), 4), ((6, 4, 1, 2, 0), 5), ((5, 3, 1, 1, 0), 5), ((7, 3, 1, 2, 0), 5),
    ((2, 3, 2, 0, 0), 5), ((3, 3, 2, 1, 0), 5), ((3, 3, 2, 1, 1), 6),
]


def test_every_guide_case_is_a_link_on_the_page_and_opens_with_the_guides_output_size():
    at = open_page("pages/conv_transpose.py", {})
    links = [line for m in at.markdown for line in m.value.splitlines() if "](conv_transpose?" in line]
    assert len(links) == len(GUIDE_SIZES)
    for line, ((i, _k, s, _p, _a), out) in zip(links, GUIDE_SIZES):
        query = dict(parse_qsl(line.split("](conv_transpose?")[1].split(")")[0]))
        assert f"o' = {out}" in line
        at = open_page("pages/conv_transpose.py", query)
        assert not at.error, [e.value for e in at.error]
        y = one_channel(stage_figure(at, "tconv_scatter"), "y")
        assert y.shape == (out, out), (query, y.shape)
        np.testing.assert_allclose(y, torch_transposed(query)[0, 0], atol=1e-9)
        assert any(f"o' = {s}·({i} - 1)" in c.value or f"= {out}" in c.value for c in at.caption), query


def one_channel(fig: dict, name: str) -> np.ndarray:
    (grid,) = panel(fig, name)
    return grid


@pytest.mark.parametrize("query", [
    {},
    {"h": "3", "w": "4", "kh": "3", "kw": "2", "sh": "2", "sw": "3", "pad": "custom", "pt": "1", "pb": "1", "pl": "0",
     "pr": "0", "oph": "1", "opw": "2", "data": "random"},
    {"h": "4", "kh": "2", "dh": "2", "dw": "3", "sh": "3", "data": "random", "oph": "2"},
])
def test_the_three_views_draw_torchs_numbers(query):
    """Scatter, direct and gradient: each view's output panel is torch's conv_transpose2d (one channel pair)."""
    expected = torch_transposed(query)[0, 0]
    at = open_page("pages/conv_transpose.py", query)
    assert [t.label for t in at.tabs] == list(TCONV_PARTS)
    assert not at.error, [e.value for e in at.error]
    for part, (stage, name) in enumerate((("tconv_scatter", "y"), ("tconv_direct", "y"), ("tconv_gradient", "dx"))):
        if part:
            at.session_state["cv_tconv_part"] = TCONV_PARTS[part]
            at.run()
            assert not at.exception
        fig = stage_figure(at, stage)
        if stage == "tconv_direct":  # the output fills in step by step: the last step holds all of it
            (grid,) = panel_at(fig, name, last_step(fig))
        else:
            grid = one_channel(fig, name)
        np.testing.assert_allclose(grid, expected, atol=1e-9, err_msg=stage)
        assert all(c.value.startswith("✓") for c in at.success if "✓" in c.value or "✗" in c.value)
        assert not [e for e in at.error], stage


def test_scatter_overlap_counts_make_the_checkerboard_when_the_kernel_is_not_a_multiple_of_the_stride():
    at = open_page("pages/conv_transpose.py", {"h": "3", "w": "3", "kh": "3", "kw": "3", "sh": "2", "sw": "2"})
    fig = stage_figure(at, "tconv_scatter")
    (count,) = panel_at(fig, "count", last_step(fig))
    # Stamps of 3 taps placed 2 apart: along an axis positions 0..6 get 1, 1, 2, 1, 2, 1, 1 stamps.
    line = np.array([1, 1, 2, 1, 2, 1, 1])
    np.testing.assert_array_equal(count, np.outer(line, line))


@pytest.mark.parametrize("query, words", [
    ({"pad": "same"}, "no 'same' mode"),
    ({"pad": "custom", "pt": "1", "pb": "0"}, "asymmetric padding"),
    ({"oph": "1"}, "output_padding"),  # a = 1 with stride 1 and dilation 1: PyTorch refuses it too
])
def test_layers_pytorch_has_not_get_a_message_and_the_output_padding_stays_reachable(query, words):
    at = open_page("pages/conv_transpose.py", query)
    assert any(words in e.value for e in at.error), [e.value for e in at.error]
    assert not at.get("plotly_chart")
    assert at.segmented_control(key="cv_oph") is not None  # the page's own control, drawn before the check


def test_pytorch_refuses_an_output_padding_as_large_as_both_stride_and_dilation_too():
    with pytest.raises(RuntimeError):
        F.conv_transpose2d(torch.zeros(1, 1, 6, 6), torch.zeros(1, 1, 3, 3), output_padding=1)


def test_output_padding_is_in_the_link_and_says_which_forward_sizes_map_back():
    query = {"h": "3", "w": "3", "sh": "2", "sw": "2", "pad": "custom", "pt": "1", "pb": "1", "pl": "1", "pr": "1"}
    at = open_page("pages/conv_transpose.py", query)
    facts = " ".join(c.value for c in at.caption)
    assert "inputs of 5, 6 rows" in facts  # floor((5 + 2 - 3)/2) + 1 = floor((6 + 2 - 3)/2) + 1 = 3
    at.segmented_control(key="cv_oph").set_value(1).run()
    assert at.query_params["oph"] == "1"
    assert one_channel(stage_figure(at, "tconv_scatter"), "y").shape == (6, 5)


def test_the_forward_convolution_it_inverts_is_a_link_to_the_input_gradient_page():
    query = {"h": "3", "w": "3", "sh": "2", "sw": "2", "pad": "custom", "pt": "1", "pb": "1", "pl": "1", "pr": "1",
             "cin": "2", "cout": "3"}
    at = open_page("pages/conv_transpose.py", query)
    line = next(c.value for c in at.caption if "](input_gradient?" in c.value)
    forward = dict(parse_qsl(line.split("](input_gradient?")[1].split(")")[0]))
    # The forward convolution: input o' = 2*(3-1) + 3 - 2 = 5, same kernel, stride, padding; channels swapped.
    assert forward == {"h": "5", "w": "5", "cin": "3", "cout": "2", "sh": "2", "sw": "2", "pad": "custom",
                       "pt": "1", "pb": "1", "pl": "1", "pr": "1"}


# ----------------------------------------------------------------------------------------- average pooling

def torch_avg(query: dict):
    s, _ = parse_query(query)
    spec = s.spec()
    x = make_input(spec, s.data, s.seed)
    k, st_ = spec.kernel_size, spec.stride
    p = (min(spec.top, spec.kh // 2), min(spec.left, spec.kw // 2))
    xt = t64(x).requires_grad_(True)
    y = F.avg_pool2d(xt, k, st_, p, count_include_pad=s.cip == "true")
    dout = make_dout(tuple(y.shape), POOL_DOUT_SEED)
    y.backward(t64(dout))
    return y.detach().numpy(), dout, xt.grad.numpy(), p


@pytest.mark.parametrize("query", [
    {"pool": "avg"},
    {"pool": "avg", "h": "7", "kh": "3", "sh": "2", "pad": "custom", "pt": "1", "pb": "1", "pl": "1", "pr": "1",
     "data": "random"},
    {"pool": "avg", "cip": "false", "h": "7", "kh": "3", "sh": "2", "pad": "custom", "pt": "1", "pb": "1", "pl": "1",
     "pr": "1", "data": "random"},
    {"pool": "avg", "kh": "2", "kw": "3", "sh": "1", "sw": "2", "w": "7", "data": "random"},  # overlapping windows
])
def test_average_pooling_draws_torchs_forward_and_backward(query):
    y, dout, dx, (ph, pw) = torch_avg(query)
    at = open_page("pages/maxpool.py", query)
    assert not at.error, [e.value for e in at.error]
    fig = stage_figure(at, "avgpool")
    np.testing.assert_allclose(one_channel(fig, "y"), y[0, 0], atol=1e-12)
    np.testing.assert_array_equal(one_channel(fig, "dout"), dout[0, 0])
    (spread,) = panel_at(fig, "dx", last_step(fig))
    h, w = dx.shape[2:]
    np.testing.assert_allclose(spread[ph:ph + h, pw:pw + w], dx[0, 0], atol=1e-12)


def test_the_pooling_page_keeps_its_old_links_and_switches_by_the_url_key():
    at = open_page("pages/maxpool.py", {"h": "8", "sh": "2"})  # an old /maxpool link: max pooling, as before
    assert {meta_of(f).get("stage") for f in figures(at)} == {"maxpool"}
    at.segmented_control(key="cv_pool").set_value("avg").run()
    assert at.query_params["pool"] == "avg"
    assert {meta_of(f).get("stage") for f in figures(at)} == {"avgpool"}
    at.segmented_control(key="cv_cip").set_value("false").run()
    assert at.query_params["cip"] == "false"


def test_average_pooling_with_dilation_is_explained():
    at = open_page("pages/maxpool.py", {"pool": "avg", "dh": "2", "h": "8"})
    assert any("avg_pool2d takes no dilation" in e.value for e in at.error)


def test_a_page_setting_survives_a_visit_to_another_page():
    at = open_page("pages/maxpool.py", {"pool": "avg"})
    at.switch_page("pages/forward.py").run()
    assert at.query_params["pool"] == "avg"
    at.switch_page("pages/maxpool.py").run()
    assert {meta_of(f).get("stage") for f in figures(at)} == {"avgpool"}


# ------------------------------------------------------------------------------------ grouped convolution

@pytest.mark.parametrize("query", [
    {"cin": "4", "cout": "8", "groups": "2", "data": "random"},
    {"cin": "4", "cout": "4", "groups": "4", "data": "random", "sh": "2", "pad": "same", "kh": "2"},  # depthwise
    {"cin": "6", "cout": "6", "groups": "3", "data": "random", "dh": "2", "h": "7"},
])
def test_the_grouped_page_draws_torchs_grouped_convolution_and_its_connections(query):
    s, _ = parse_query(query)
    spec = s.spec()
    x, w = make_input(spec, s.data, s.seed), make_kernel(spec, s.kernel, s.seed)
    from convviz.data import make_bias
    b = make_bias(spec, s.kernel, s.seed)
    t, bt, l, r = spec.padding
    xp = np.pad(x, ((0, 0), (0, 0), (t, bt), (l, r)))
    y = F.conv2d(t64(xp), t64(w), t64(b), spec.stride, 0, spec.dilation, groups=s.groups).numpy()
    at = open_page("pages/grouped.py", query)
    assert not at.error, [e.value for e in at.error]
    fig = stage_figure(at, "groups")
    grids = panel_at(fig, "y", last_step(fig))
    np.testing.assert_allclose(np.stack(grids), y[0], atol=1e-9)
    (conn,) = panel(fig, "connections")
    g, C, Fo = s.groups, s.cin, s.cout
    expected = np.array([[1 if c // (C // g) == f // (Fo // g) else 0 for c in range(C)] for f in range(Fo)])
    np.testing.assert_array_equal(conn, expected)
    # the comparison table, counted here from the definitions: ordinary, grouped, depthwise-separable
    kh, kw = spec.kernel_size
    macs = [spec.oh * spec.ow * Fo * C * kh * kw, spec.oh * spec.ow * Fo * (C // g) * kh * kw,
            spec.oh * spec.ow * (C * kh * kw + Fo * C)]
    table = at.table[0].value.to_string()
    for m in macs:
        assert f"{m:,}" in table or str(m) in table, (m, table)
    assert at.segmented_control(key="cv_groups").options == [str(d) for d in range(1, 9) if C % d == 0 and Fo % d == 0]


def test_groups_that_do_not_divide_the_channels_name_the_ones_that_do():
    at = open_page("pages/grouped.py", {"cin": "4", "cout": "6", "groups": "4"})
    assert any("groups: 4 does not divide the 6 output channels; use 1 or 2." in e.value for e in at.error)
    at.segmented_control(key="cv_groups").set_value(2).run()
    assert not at.error and at.query_params["groups"] == "2"


def test_the_grouped_page_at_the_defaults_offers_an_example_in_one_click():
    at = open_page("pages/grouped.py", {})
    assert any("nothing to group" in c.value for c in at.caption)
    (conn,) = panel(stage_figure(at, "groups"), "connections")
    assert conn.shape == (4, 2)  # the example is drawn at once
    next(b for b in at.button if b.key == "cv_grouped_example").click().run()
    assert not at.exception and not at.error
    assert {k: at.query_params[k] for k in ("cin", "cout", "groups")} == {"cin": "2", "cout": "4", "groups": "2"}
    (conn,) = panel(stage_figure(at, "groups"), "connections")
    assert conn.shape == (4, 2) and conn.sum() == 4 * 1  # each output channel reads C/groups = 1 input channel
