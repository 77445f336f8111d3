"""Hypothesis-driven AppTest runs over every page with random and hostile URL parameters and control values:
the app must never raise, and must always show either a chart or a plain message.

Size: CONVVIZ_FUZZ_EXAMPLES examples per page (default 25: 225 URL runs plus the control runs in CI; set
e.g. 500 for a nightly run).
"""
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from convviz.stages import PAGE, PAGES
from convviz.ui.controls import LAYER_FIELDS
from convviz.ui.settings import CHOICE_FIELDS, INT_FIELDS, PAGE_FIELDS, TEXT_FIELDS

APP = str(Path(__file__).resolve().parents[2] / "app.py")
EXAMPLES = int(os.environ.get("CONVVIZ_FUZZ_EXAMPLES", "25"))
KEYS = [f.key for f in INT_FIELDS] + list(CHOICE_FIELDS) + list(TEXT_FIELDS) + ["step", "present", "utm_source", "", "h[]",
                                                                           "H"]
HOSTILE = ["", " ", "inf", "-inf", "nan", "NaN", "1e3", "2.5", "-1", "0", "99999999999999999999", "0x10", "１２",
           "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "'; DROP TABLE x;--", "../../etc/passwd",
           "%00", "\x00", "\u202e", "custom", "same", "full", "valid", "image", "sobel", "1,0;0,1", "1e309", "a" * 500]


TYPED = ["1,2;3,4", "1,2;3", "[[1, 2], [3, 4]]", "array([[1., 2.],\n [3., 4.]])", "1,2;3,4 | 5,6;7,8", "nan", "٣",
         "1e999", "<b>x</b>", "|||", "[[1, 2]", ";" * 50]


def in_range(f):
    return st.integers(f.low, f.high).map(str)


VALUES = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30), st.integers(-10**6, 10**6).map(str))
QUERY = st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=8)
# plausible settings: every field within its cap, so impossible geometries (kernel > padded input...) are common
PLAUSIBLE = st.fixed_dictionaries(
    {},
    optional={**{f.key: in_range(f) for f in INT_FIELDS},
              **{k: st.sampled_from(v[2]) for k, v in CHOICE_FIELDS.items()},
              "kv": st.one_of(st.text(max_size=40), st.sampled_from(["1,0,-1;2,0,-2;1,0,-1", "1;2", "inf,1;1,1", "1 2 3"])),
              **{k: st.one_of(st.text(max_size=40), st.sampled_from(TYPED)) for k in ("xv", "bv", "gv")}},
)


def run_page(page, query):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({k: v for k, v in query.items()})
    at.switch_page(page)
    at.run()
    return at


def assert_healthy(at, query):
    assert not at.exception, f"exception for {query!r}: {[e.value for e in at.exception]}"
    shown = len(at.get("plotly_chart")) + len(at.error)
    assert shown, f"neither a chart nor a message for {query!r}"
    for element in at.markdown:  # user text is never rendered as HTML: only our own legend uses HTML
        if "<script" in element.value.lower():
            assert not element.allow_html, f"user text rendered as HTML: {element.value[:80]}"


@pytest.mark.parametrize("page", [p.path for p in PAGES])
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(query=st.one_of(QUERY, PLAUSIBLE))
def test_no_url_breaks_any_page(page, query):
    assert_healthy(run_page(page, query), query)


@settings(max_examples=max(5, EXAMPLES // 3), deadline=None, suppress_health_check=list(HealthCheck))
@given(page=st.sampled_from([p.path for p in PAGES]),
       changes=st.lists(st.tuples(st.sampled_from([f for f in INT_FIELDS if f.key not in PAGE_FIELDS]), st.data()),
                        min_size=1, max_size=4))
def test_random_control_changes_never_raise(page, changes):
    """Drive the shared sidebar widgets themselves (as a student would), within their limits, on any page (a page's
    own settings are in the URL fuzz above, and tested on their pages)."""
    at = run_page(page, {})
    layer_controls = PAGE[Path(page).stem].layer_controls
    if layer_controls:
        at.segmented_control(key="cv_pad").set_value("custom").run()  # the four padding controls exist in custom mode
        at.radio(key="cv_dout").set_value("onehot").run()  # and the one-hot cell's with a one-hot upstream gradient
    else:  # a page that reads none of the layer groups draws no control of theirs
        changes = [(f, d) for f, d in changes if f.key not in LAYER_FIELDS]
    for field, data in changes:
        value = data.draw(st.integers(field.low, field.high))
        at.sidebar.get_by_key(f"cv_{field.key}").set_value(value)  # a slider or a segmented control
        at.run()
        assert_healthy(at, {field.key: value})
