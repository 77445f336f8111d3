"""What a session keeps after its run must not pin the shared caches' traces and figures (AppTest).

Streamlit keeps a session's fragments (here the figure view, rerun on a step move or a cell click) and its deferred
downloads (HTML, PNG) after the run, and keeps a closed tab's whole session for a reconnect. If those held the
trace or the figure, the idle release (convviz/ui/housekeeping.py) would drop the caches' references and free
nothing: a class's worth of closed tabs pinned their figures (bench/load.py: after the release, 89 k more live objects
than before the class). So after a page has run and the caches are released, no trace or figure may be alive while the
session still is, and the downloads the session kept must still work: they fetch the figure again.
"""
from __future__ import annotations

import gc
import sys
from pathlib import Path

import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

from convviz.stages import PAGES, stages_of
from convviz.traces.base import Trace
from convviz.ui.page import release_caches

APP = str(Path(__file__).resolve().parents[2] / "app.py")
FIGURE_PAGES = [p.path for p in PAGES if stages_of(p.url_path)]
QUERY = {"h": "7", "w": "9", "kh": "2", "sh": "2", "pad": "custom", "pt": "1", "pb": "1", "seed": "4"}


def alive(kind: type) -> int:
    gc.collect()
    # type(o), not isinstance: isinstance reads o.__class__, which trips lazy module attributes (a torch warning)
    return sum(issubclass(type(o), kind) for o in gc.get_objects())


def test_the_measure_sees_a_pinned_trace():
    """The check below can fail: a trace held by a live session object is counted."""
    release_caches()
    before = alive(Trace)
    from convviz.ui.page import get_trace
    from convviz.ui.settings import Settings

    held = get_trace("shapes", Settings())
    release_caches()
    assert alive(Trace) == before + 1
    del held
    assert alive(Trace) == before


@pytest.mark.parametrize("page", FIGURE_PAGES)
def test_after_the_idle_release_a_session_pins_no_trace_or_figure(page, downloads):
    release_caches()
    base_traces, base_figures = alive(Trace), alive(go.Figure)
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(QUERY)
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.get("plotly_chart"), "the page drew no figure"
    assert alive(Trace) > base_traces  # the caches hold this page's trace (the measure works on this page)
    release_caches()
    # `at` (its session state and fragments) and the kept downloads are still alive, as a closed tab's session is.
    assert alive(Trace) == base_traces, f"{page}: a session object still holds a trace after the release"
    assert alive(go.Figure) == base_figures, f"{page}: a session object still holds a figure after the release"
    html_name = next(n for n in downloads if n.endswith(".html"))
    html = downloads[html_name]()  # the deferred callable, held as Streamlit holds it: a click after the release
    assert html.lower().startswith(b"<!doctype html>") and b"Plotly.newPlot" in html
    assert at is not None and sys.getrefcount(at) > 1
