"""Bug lab page under AppTest: no exception; the figure's arrays equal the engine's correct and buggy result (dx, the
transposed convolution's y', the grouped convolution's y, the network's dx), for every bug of the list."""
import json
import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from convviz.bugs import BUGS, KINDS
from convviz.conv import conv2d_backward_spec, conv2d_spec
from convviz.data import make_dout
from convviz.network import NetSpec, backward, forward, init_params
from convviz.pool import avg_pool2d_backward_spec
from convviz.stages import POOL_DOUT_SEED, pooling_of
from convviz.transposed import direct_transposed
from convviz.ui.settings import DEFAULTS, parse_query
from tests.app.test_pages import engine_data
from tests.figure_support import decode

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def open_page(query: dict, bug_id: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.update(query)
    at.switch_page("pages/bug_lab.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.selectbox(key="bug_lab_bug").set_value(bug_id).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def engine_results(query: dict, bug_id: str):
    """The correct and the buggy result (None when the buggy code raises) of the bug's own engine function, for the
    settings of `query`, built independently of the page."""
    bug = BUGS[bug_id]
    settings, spec, (x, w, _, dout) = engine_data(query)
    if bug.kind == "transposed":
        def run(b):
            return direct_transposed(x, w.transpose(1, 0, 2, 3), settings.transposed(), _bug=b)
    elif bug.kind == "grouped":
        def run(b):
            return conv2d_spec(x, w, None, spec, bug.method, _bug=b)
    elif bug.kind == "network":
        ns = NetSpec.create(settings.net, (settings.n, settings.cin, settings.h, settings.w))
        params = init_params(ns.planned, settings.seed, x)
        acts = forward(ns.planned, x, params)
        def run(b):
            return backward(ns.planned, acts, params, make_dout(ns.output_shape, settings.seed),
                            skip_relu_mask=b is not None).grads[0]
    elif bug.kind == "avgpool":
        ps = pooling_of(spec)
        def run(b):
            return avg_pool2d_backward_spec(make_dout(ps.output_shape, POOL_DOUT_SEED), x, ps, settings.cip == "true", _bug=b)
    else:
        def run(b):
            return conv2d_backward_spec(dout, x, w, spec, bug.method, _bug=b)[0]
    try:
        bad = run(bug_id)
    except IndexError:
        bad = None
    return run(None), bad


@pytest.mark.parametrize("bug_id", list(BUGS))
def test_bug_lab_figure_shows_engine_result(bug_id):
    query = {k: v for k, v in BUGS[bug_id].expose.items()}
    at = open_page(query, bug_id)
    ok, bad = engine_results(query, bug_id)
    n, c = 0, 0  # the page opens on the first sample and channel with a wrong cell
    if bad is not None and bad.shape == ok.shape:
        n, c = (int(i) for i in np.argwhere(np.abs(bad - ok).max(axis=(2, 3)) > 1e-9)[0])
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    heat = [t for t in fig["data"] if t["type"] == "heatmap"]
    np.testing.assert_allclose(decode(heat[0]["z"]).reshape(ok.shape[2:]), ok[n, c], atol=1e-12)
    shown = decode(heat[1]["z"]).reshape(ok.shape[2:])
    if bad is not None and bad.shape == ok.shape:
        np.testing.assert_allclose(shown, bad[n, c], atol=1e-12)
        assert np.abs(shown - ok[n, c]).max() > 1e-6
    else:  # short or empty buggy dx: its values top-left, the rest shown as missing
        assert np.isnan(shown).any()
    name = KINDS[BUGS[bug_id].kind].result
    assert fig["layout"]["annotations"][0]["text"] == f"correct {name}"
    text = " ".join(m.value for m in at.markdown)
    assert "expose this bug" in " ".join(w.value for w in at.warning)
    assert name.replace("'", "") in text
    verdicts = at.dataframe[0].value["verdict"].tolist()
    assert verdicts[0].startswith("✅") and verdicts[1].startswith("❌")
    assert "equals" in " ".join(s.value for s in at.success)  # the live check: bug off = the kind's reference


HIDING = {  # settings that hide each bug (the buggy dx equals the right one), and what exposes it
    "no_dilate": {},  # stride 1
    "no_remainder": {},  # (6 - 3) mod 1 = 0
    "col2im_assign": {"sh": "3", "sw": "3"},  # stride = kernel: no window overlaps another
    "crop_negative": {"pad": "same"},  # p = 1 on every side
    "height_for_width": {},  # H = W
    "no_flip": {"kernel": "box"},  # a symmetric kernel is its own 180-degree rotation
    "tconv_no_flip": {"kernel": "box"},  # the same in the transposed convolution's direct view
    "tconv_output_padding": {"sh": "2", "sw": "2"},  # output padding a = 0
    "group_offset": {"cin": "2", "cout": "2"},  # groups = 1: the first group is the only one
    "avgpool_divisor": {"pad": "same"},  # count_include_pad=True: KH*KW is the right divisor everywhere
    "relu_no_mask": {"net": "relu,c3", "data": "ones"},  # every ReLU input is 1: the mask is all ones
}


@pytest.mark.parametrize("bug_id", list(BUGS))
def test_a_hidden_bug_switches_to_settings_that_expose_it_in_place(bug_id):
    """The page names the settings that expose a hidden bug, and its button applies them in this session, with the
    same bug still selected (a link opened a new tab, a new session, on the first bug instead)."""
    at = open_page(HIDING[bug_id], bug_id)
    assert "hide this bug" in " ".join(i.value for i in at.info)
    assert at.dataframe[0].value["verdict"].tolist()[1].startswith("✅")  # hidden: the check passes the buggy dx
    at.button(key="bug_lab_expose").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="bug_lab_bug").value == bug_id
    assert "expose this bug" in " ".join(w.value for w in at.warning)
    assert at.dataframe[0].value["verdict"].tolist()[1].startswith("❌")
    expected, _ = parse_query({**HIDING[bug_id], **BUGS[bug_id].expose})
    for key, value in BUGS[bug_id].expose.items():
        assert at.session_state[f"cv_{key}"] == getattr(expected, key)
        if str(getattr(DEFAULTS, key)) == value:
            assert key not in at.query_params  # the URL leaves defaults out
        else:
            assert at.query_params[key] == value  # the URL follows the new settings


def test_hidden_bug_table_prints_errors_as_the_gradient_check_does():
    at = open_page({}, "no_remainder")
    table = at.dataframe[0].value
    assert table["verdict"].tolist()[1].startswith("✅")
    # Errors print as the Gradient check page prints them (2.00e-09), not as a float column's 0.000000002.
    for shown in table["max relative error"]:
        assert re.fullmatch(r"\d\.\d\de[-+]\d\d", shown), shown
        assert float(shown) < 1e-6


@pytest.mark.parametrize("bug_id, query", [("tconv_output_padding", {"pad": "same"}), ("avgpool_divisor", {"dh": "2"}),
                                           ("relu_no_mask", {"h": "4", "w": "4"})])
def test_settings_without_the_bugs_layer_say_why_and_the_button_fixes_them(bug_id, query):
    """'same' padding makes no transposed layer, dilation no average pooling, a 4x4 input no c3,relu,c3 (the second
    convolution gets a 2x2 map): the page says so (no exception) and its button switches to settings that make the
    layer and expose the bug."""
    at = open_page(query, bug_id)
    assert "no layer for this bug" in " ".join(e.value for e in at.error)
    at.button(key="bug_lab_expose").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="bug_lab_bug").value == bug_id
    assert "expose this bug" in " ".join(w.value for w in at.warning)
    assert at.dataframe[0].value["verdict"].tolist()[1].startswith("❌")
