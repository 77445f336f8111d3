"""Bug lab page under AppTest: no exception; the figure's arrays equal the engine's correct and buggy dx."""
import json
import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from convviz.bugs import BUGS
from convviz.conv import conv2d_backward_spec
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


@pytest.mark.parametrize("bug_id", list(BUGS))
def test_bug_lab_figure_shows_engine_dx(bug_id):
    query = {k: v for k, v in BUGS[bug_id].expose.items()}
    at = open_page(query, bug_id)
    _, spec, (x, w, _, dout) = engine_data(query)
    ok = conv2d_backward_spec(dout, x, w, spec, BUGS[bug_id].method)[0]
    try:
        bad = conv2d_backward_spec(dout, x, w, spec, BUGS[bug_id].method, _bug=bug_id)[0]
    except IndexError:
        bad = None
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    heat = [t for t in fig["data"] if t["type"] == "heatmap"]
    np.testing.assert_allclose(decode(heat[0]["z"]).reshape(ok.shape[2:]), ok[0, 0], atol=1e-12)
    shown = decode(heat[1]["z"]).reshape(ok.shape[2:])
    if bad is not None and bad.shape == ok.shape:
        np.testing.assert_allclose(shown, bad[0, 0], atol=1e-12)
        assert np.abs(shown - ok[0, 0]).max() > 1e-6
    else:  # short or empty buggy dx: its values top-left, the rest shown as missing
        assert np.isnan(shown).any()
    text = " ".join(m.value for m in at.markdown)
    assert "expose this bug" in " ".join(w.value for w in at.warning)
    assert "dx" in text
    verdicts = at.dataframe[0].value["verdict"].tolist()
    assert verdicts[0].startswith("✅") and verdicts[1].startswith("❌")


HIDING = {  # settings that hide each bug (the buggy dx equals the right one), and what exposes it
    "no_dilate": {},  # stride 1
    "no_remainder": {},  # (6 - 3) mod 1 = 0
    "col2im_assign": {"sh": "3", "sw": "3"},  # stride = kernel: no window overlaps another
    "crop_negative": {"pad": "same"},  # p = 1 on every side
    "height_for_width": {},  # H = W
    "no_flip": {"kernel": "box"},  # a symmetric kernel is its own 180-degree rotation
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
