"""What every page uses, in one import: its context, the trace view, the gradient check's sample.

Pages stay short flat scripts: `ctx = page_context(...)`, then `show_trace(..., about=ctx.about)`.
"""
from __future__ import annotations

# Imported here, once, under this module's import lock: plotly's validators use pandas if sys.modules has it, and
# when two sessions' first runs overlap, one thread could otherwise see the half-imported pandas of the other.
import pandas  # noqa: F401
import streamlit as st

from .context import (
    CACHE_ENTRIES,
    TITLE_KEY,
    TITLE_SIDE_KEY,
    About,
    Arrays,
    Context,
    build_arrays,
    coverage_text,
    escape_md,
    geometry_line,
    page_context,
    page_header,
    pick_index,
    pick_indices,
    settings_of_session,
    show_about,
)
from .gradcheck_view import (
    GRADCHECK_BUDGET,
    GRADCHECK_SECONDS,
    gradcheck_entries,
    gradcheck_store,
    gradcheck_trace_cached,
)
from .housekeeping import register_releaser
from .player import CHART_KEY, PLAYER_KEY
from .room import FigureBox, figure_box
from .trace_view import (
    CODE_LABEL,
    Options,
    TraceRef,
    figure_for,
    figure_store,
    get_trace,
    grid_store,
    legend,
    options_of,
    page_figure_box,
    show_trace,
    show_trace_object,
    window_notes,
)

__all__ = [
    "CACHE_ENTRIES", "CODE_LABEL", "GRADCHECK_BUDGET", "GRADCHECK_SECONDS", "About", "Arrays", "Context", "FigureBox",
    "Options", "TraceRef", "build_arrays", "coverage_text", "escape_md", "figure_box", "figure_for", "figure_store",
    "geometry_line", "grid_store", "get_trace", "gradcheck_entries", "gradcheck_store", "gradcheck_trace_cached", "legend",
    "options_of", "page_context", "page_figure_box", "page_header", "pick_index", "pick_indices", "page_style", "release_caches",
    "settings_of_session", "show_about", "show_trace", "show_trace_object", "window_notes",
]


def release_caches() -> None:
    """Drop the pages' shared caches (the housekeeping thread calls this once the app has been idle a while)."""
    for cached in (build_arrays, get_trace, figure_store, grid_store, gradcheck_store):
        cached.clear()


def page_style() -> None:
    """The page's spacing (the figure high on the first screen; a phone's title no bigger than its figure) and, in
    presenter mode, larger text for a projector (the figures get larger cells and fonts themselves)."""
    css = PAGE_CSS + (PRESENTER_CSS if st.session_state.get("cv_present") else "")
    st.html(f"<style>{css}</style>")  # style only: sent to the event container, no gap above the title


# The scrollbar keeps its gutter: the column the player reports does not narrow when a taller figure makes the page
# scroll (that would lay the figure out a second time).
PAGE_CSS = """
[data-testid='stMain'] { scrollbar-gutter: stable; }
[data-testid='stMainBlockContainer'] { padding-top: 3.25rem; }
.katex-display { overflow-x: auto; overflow-y: hidden; contain: paint; }
[data-testid='stMainBlockContainer'] h1 { font-size: 2.1rem; padding: 0.25rem 0 0.5rem 0; }
@media (max-width: 640px) {
  [data-testid='stMainBlockContainer'] h1 { font-size: 1.6rem; padding-top: 0.5rem; }
  [data-testid='stMainBlockContainer'] { padding-left: 0.75rem; padding-right: 0.75rem; }
}
"""
# A chart under its player: half Streamlit's gap (room.CHART_GAP_PX), for a taller figure.
PAGE_CSS += f"[class*='st-key-{PLAYER_KEY}'] + [class*='st-key-{CHART_KEY}'] {{ margin-top: -0.5rem; }}\n"
# Larger text; the page starts at the top, its title beside Streamlit's header (now see-through: its buttons still
# take clicks, the rest of it lets them through to the page); narrow side margins.
PRESENTER_CSS = """
[data-testid='stMain'] p, [data-testid='stMain'] li { font-size: 1.3rem; }
[data-testid='stMain'] button p { font-size: 1.4rem; }
[data-testid='stMain'] input, [data-testid='stMain'] textarea, [data-testid='stMain'] [data-baseweb='select'] > div {
  font-size: 1.3rem; }
[data-testid='stHeader'] { background: transparent; }
[data-testid='stHeader'], [data-testid='stToolbar'] { pointer-events: none; }
[data-testid='stHeader'] button, [data-testid='stHeader'] a { pointer-events: auto; }
[data-testid='stMainBlockContainer'] { padding: 0.5rem 1rem 2rem 1rem; max-width: none; }
"""
PRESENTER_CSS += (f".st-key-{TITLE_KEY} h4 {{ padding: 0.2rem 0 0.2rem 3rem; }}\n"
                  f".st-key-{TITLE_SIDE_KEY} h4 {{ padding: 0 0 0.2rem 0; }}\n")


register_releaser(release_caches)
