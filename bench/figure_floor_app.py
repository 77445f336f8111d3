"""A page's own figure in a bare Streamlit app: bench/latency.py --figure-floor times a change here beside the page.

The figure is the exact chart spec a convviz page sends (written by latency.py to CONVVIZ_FIGURE_FLOOR_DIR as
<name>.json, where ?fig=<name> picks it), drawn with the page's own st.plotly_chart arguments and nothing else on
the page. The sidebar's one number input, labelled like convviz's "H (height)", writes its value into the first
trace's name (shown on hover only), so each change sends a new figure: a new element, drawn from scratch, as on a
convviz page (Streamlit's element id hashes the figure).

Read against the two other apps of the run: floor_app.py (a 6x6 heatmap: what any Streamlit + Plotly change costs)
and the page itself. figure - floor is what the figure's size and shape cost; page - figure is what the rest of the
page (text, formula, controls, quiz, export row) adds.
"""
from __future__ import annotations

import copy
import json
import os
import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from convviz.figures.encoding import AnimatedFigure  # noqa: E402

name = st.query_params.get("fig", "")
path = Path(os.environ.get("CONVVIZ_FIGURE_FLOOR_DIR", ".")) / f"{name}.json"
if not name or not path.is_file():
    st.error(f"no figure spec {path}")
    st.stop()


@st.cache_resource(max_entries=4)
def figure(p: str, value: int) -> AnimatedFigure:
    """Built as the page builds it (the layout a validated plotly object, traces and frames raw dicts) and cached, as
    the page caches its figures: a revisited value costs what a page's revisited settings cost."""
    spec = json.loads(Path(p).read_text())
    data = copy.copy(spec["data"])
    data[0] = {**data[0], "name": f"{data[0].get('name', '')} ({value})"}
    return AnimatedFigure(layout=spec["layout"], raw_data=data, raw_frames=spec.get("frames"))


value = st.sidebar.number_input("H (height)", min_value=0, max_value=999, value=0, step=1)
st.plotly_chart(figure(str(path), int(value)), key="cv_chart_floor", on_select="rerun", selection_mode="points",
                width="content", theme=None, config={"displaylogo": False, "scrollZoom": False})
