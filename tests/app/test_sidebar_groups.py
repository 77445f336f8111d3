"""Sidebar groups a page does not read are not drawn there (convviz.stages.Page.layer_controls), and their values
survive: in the URL while the page is open, and in the controls when a page that reads them is opened again.

Streamlit drops a widget's state after a run that does not draw it, so these tests switch pages in one session
(AppTest keeps it between runs), as a student clicking through the navigation does.
"""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from convviz.stages import PAGES
from convviz.ui.controls import LAYER_FIELDS
from tests.app.test_new_stages import open_page

NETWORK, FORWARD, WEIGHTS = "pages/network.py", "pages/forward.py", "pages/weight_gradient.py"
INPUT_KEYS = {"cv_h", "cv_w", "cv_n", "cv_cin", "cv_data", "cv_seed"}  # what the network page reads
LAYER_KEYS = {"cv_cout", "cv_kh", "cv_kw", "cv_sh", "cv_sw", "cv_dh", "cv_dw", "cv_pad", "cv_kernel", "cv_dout"}
# Hidden settings of every kind: a segmented control, a padding side shown only in custom mode, a radio, the typed
# kernels and biases, the one-hot cell (shown only for dout=onehot).
# A valid forward layer: 6 x 6 padded on top by 2, 5 x 3 kernels dilated 2 across: a 4 x 2 output, one-hot at (1, 1).
HIDDEN = {"kh": "5", "dw": "2", "sh": "2", "cout": "3", "pad": "custom", "pt": "2", "kernel": "custom",
          "kv": "1,0,1;0,1,0;1,0,1;0,0,0;1,1,1", "bv": "1,2,3", "dout": "onehot", "oi": "1", "oj": "1"}


def goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def sidebar_keys(at: AppTest) -> set[str]:
    return {w.key for w in at.sidebar if getattr(w, "key", None)}


def url(at: AppTest) -> dict[str, str]:
    return {k: at.query_params.get(k) for k in at.query_params.keys()}


def test_only_the_network_page_hides_the_layer_groups():
    assert [p.url_path for p in PAGES if not p.layer_controls] == ["network"]
    assert {f"cv_{name}" for name in LAYER_FIELDS} >= LAYER_KEYS


def test_the_network_page_draws_the_input_controls_and_not_the_layer_groups():
    at = open_page(NETWORK, {"pad": "custom", "kernel": "custom", "dout": "custom"})  # every sub-group would show
    keys = sidebar_keys(at)
    assert keys >= INPUT_KEYS
    assert not keys & {f"cv_{name}" for name in LAYER_FIELDS}, keys & {f"cv_{name}" for name in LAYER_FIELDS}
    assert not at.sidebar.text_area  # neither the kernels, the biases nor the upstream gradient
    assert not any("This page reads the sidebar's input" in c.value for c in at.caption)
    goto(at, FORWARD)  # the same session on a page that reads them: all drawn
    assert INPUT_KEYS | LAYER_KEYS | {"cv_pt", "cv_kv", "cv_bv", "cv_gv"} <= sidebar_keys(at)


def test_hidden_settings_survive_a_visit_to_the_network_page():
    at = open_page(FORWARD, HIDDEN)
    assert not at.error, [e.value for e in at.error]
    assert url(at) == HIDDEN
    goto(at, NETWORK)
    assert url(at) == HIDDEN  # kept in the link while hidden
    at.text_input(key="cv_net").set_value("c3,relu").run()  # a change on the page, then more runs without them
    at.segmented_control(key="cv_ri").set_value(2).run()
    assert not at.error, [e.value for e in at.error]
    assert url(at) == {**HIDDEN, "net": "c3,relu", "ri": "2"}
    goto(at, FORWARD)
    assert not at.error, [e.value for e in at.error]
    s = at.session_state["cv_settings"]
    assert (s.kh, s.sh, s.dw, s.cout, s.pad, s.pt, s.kernel, s.kv, s.bv, s.dout, s.oi, s.oj) == (
        5, 2, 2, 3, "custom", 2, "custom", HIDDEN["kv"], "1,2,3", "onehot", 1, 1)
    assert at.segmented_control(key="cv_kh").value == 5 and at.segmented_control(key="cv_pt").value == 2
    assert at.text_area(key="cv_kv").value == HIDDEN["kv"] and at.radio(key="cv_dout").value == "onehot"
    assert url(at) == {**HIDDEN, "net": "c3,relu", "ri": "2"}


def test_a_network_link_with_layer_settings_keeps_them():
    at = open_page(NETWORK, {"kh": "5", "net": "c3"})
    assert url(at) == {"kh": "5", "net": "c3"}
    at.run()
    at.segmented_control(key="cv_cin").set_value(2).run()  # a shown control changes; the hidden one stays
    assert url(at) == {"kh": "5", "net": "c3", "cin": "2"}
    goto(at, FORWARD)
    assert at.segmented_control(key="cv_kh").value == 5 == at.session_state["cv_settings"].kh


@pytest.mark.parametrize("query", [
    {"dout": "custom", "gv": "1,2,3,4;5,6,7,8;1,1,1,1;2,2,2,2|0,0,0,0;1,1,1,1;0,0,0,0;1,1,1,1"},  # F = 2 of 4 x 4
    {"kernel": "custom", "kv": "1,0,1;0,1,0;1,0,1|1,1,1;0,0,0;1,1,1"},  # two kernels: F x C = 2 x 1
])
def test_a_hidden_typed_setting_that_no_longer_fits_does_not_stop_the_network_page(query):
    """The network page reads neither the kernels nor the upstream gradient: a change of its input (H, C) that they
    no longer fit must not stop it; back on a page that reads them, their error is explained there."""
    at = open_page(WEIGHTS, {**query, "cout": "2"})
    assert not at.error, [e.value for e in at.error]
    goto(at, NETWORK)
    at.slider(key="cv_h").set_value(8).run()
    at.segmented_control(key="cv_cin").set_value(2).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.get("plotly_chart")
    assert {k: url(at).get(k) for k in query} == query  # still kept
    goto(at, WEIGHTS)
    assert at.error  # now it matters: the page says what does not fit
