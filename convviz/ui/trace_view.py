"""A stage's trace on the page: the player and the figure first, sized to the screen, then what explains them.

Engine work and figure building are cached on the settings (bounded caches), so a rerun that changes nothing
recomputes nothing. The figure and its player are a fragment: a step reported by the player, or a new screen size,
reruns only them.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import plotly.graph_objects as go
import streamlit as st

from ..figures import ROLE_COLOURS, ROLE_MEANING, trace_figure
from ..figures.arrange import covered_px
from ..figures.grid import GridLayout
from ..figures.trace_figure import FILL_ROLES, MAX_PANEL_CELLS, MAX_TEXT_CELLS, figure_grid
from ..stages import STAGES, STEP_BUDGET, Stage
from ..traces.base import Trace
from .context import (
    CACHE_ENTRIES,
    About,
    build_arrays,
    escape_md,
    hide_page_title,
    page_title,
    presenting,
    settings_of_session,
    show_about,
    title_beside,
)
from .export import export_row
from .housekeeping import touch
from .player import CHART_KEY, Screen, caption_texts, click_cells, keys_help, player, session_screen
from .room import COLUMN_GAP_PX, SIDE_BETTER_BY, FigureBox, Placement, figure_box, placements
from .settings import Settings

Options = tuple  # sorted (name, value) pairs of a stage's options, e.g. (("f", 0), ("n", 0))
CODE_LABEL = "The engine's NumPy code for this stage"


@dataclass(frozen=True)
class TraceRef:
    """Where a shown trace comes from: a cached builder and its small, hashable arguments.

    What a session keeps after its run holds this, never the trace or its figure: the figure fragment and the
    deferred downloads fetch them again from the shared caches (a hit, or a recomputation after the idle release).
    Streamlit keeps a session's fragments and deferred downloads until the session ends, and a closed tab's session
    for a reconnect, so a trace held there would outlive the bounded caches.
    """

    build: Callable[..., Trace]
    args: tuple
    settings: Settings | None = None  # the settings the trace is drawn for, when not the session's (the exports' script)

    def get(self) -> Trace:
        return self.build(*self.args)


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner=False)
def get_trace(stage: str, settings: Settings, options: Options = ()) -> Trace:
    """The (immutable, shared) trace of one stage for the settings."""
    return STAGES[stage].trace_for(settings, build_arrays, **dict(options))


def options_of(**kw) -> Options:
    return tuple(sorted(kw.items()))


def placement(trace: Trace, rows: tuple, screen: Screen | None, presenter: bool, captions: list[str],
              heading: str = "") -> Placement:
    """The placement whose figure's cells cover the most (the player beside the figure only if clearly more); chosen
    once per trace, rows and screen. `captions`: the player's caption at every step; `heading`: the page's title."""
    options = placements(screen, presenter, captions, heading)
    if len(options) == 1:
        return options[0]

    def choose() -> Placement:
        over, *sides = (covered_px(grid_of(trace, rows, p.box)) for p in options)
        k = max(range(len(sides)), key=sides.__getitem__)
        return options[1 + k] if sides[k] > SIDE_BETTER_BY * over else options[0]

    return kept(trace, ("placement", rows, tuple(options)), choose)


def grid_of(trace: Trace, rows: tuple, box: FigureBox, start: int = 0, controls: bool = False) -> GridLayout:
    """The grid of the figure `figure_for` builds in `box` round step `start`, arranged once per trace and view: the
    placement compares rooms with it, and the figure of the room chosen is drawn on it."""
    return kept(trace, (rows, box, start, controls), lambda: figure_grid(
        trace, [list(r) for r in rows], start, cell_px=box.cell_px, font_size=box.font_size, text=None,
        max_width=box.width, max_height=box.height, controls=controls, rearrange=box.rearrange), grid_store())


def page_figure_box(caption_px: int = 0) -> FigureBox:
    """The room a figure has on this page, on the screen this session reported."""
    return figure_box(session_screen(), presenting(), caption_px)


@st.cache_resource(max_entries=1, show_spinner=False)
def figure_store() -> dict:
    """Figures of live traces, keyed on the trace's identity and the view; bounded below."""
    return {}


@st.cache_resource(max_entries=1, show_spinner=False)
def grid_store() -> dict:
    """The grids of live traces in the rooms a page compared, apart from the figures (which they would crowd out)."""
    return {}


def kept(trace: Trace, view: tuple, make: Callable[[], object], store: dict | None = None):
    """What `make` computes for a trace and a view, computed once while `store` (default: `figure_store`) holds it.
    The entry keeps the trace alive, so its id stays unique; the oldest entries go first past CACHE_ENTRIES."""
    store, key = figure_store() if store is None else store, (id(trace), *view)
    hit = store.get(key)
    if hit is None or hit[0] is not trace:
        while len(store) >= CACHE_ENTRIES:
            store.pop(next(iter(store)), None)  # None: another session's run may have dropped it first
        hit = store[key] = (trace, make())
    return hit[1]


def figure_for(trace: Trace, rows: tuple, start: int, clickable: str | None, box: FigureBox,
               controls: bool = False) -> go.Figure:
    """The figure of a trace for one view, built once, on the grid `grid_of` arranged for it.

    controls: Plotly's own play buttons, slider and step titles (for the exported HTML and images); on the page the
    player does that."""
    return kept(trace, ("figure", rows, start, clickable, box, controls), lambda: trace_figure(
        trace, rows=[list(r) for r in rows], start=start, clickable=clickable, cell_px=box.cell_px,
        font_size=box.font_size, max_width=box.width, max_height=box.height, controls=controls,
        rearrange=box.rearrange, grid=grid_of(trace, rows, box, start, controls)))


def click_cells_for(trace: Trace, clickable: str | None) -> dict[str, int] | None:
    """`click_cells` of a trace's clickable panel, computed once per trace (a step reported by the player reruns the
    figure fragment, and the map walks every step's highlights)."""
    if not clickable:
        return None
    return kept(trace, ("clicks", clickable), lambda: click_cells(trace, clickable))


def show_trace(stage: str, settings: Settings, options: Options = (), about: About | None = None) -> None:
    """Draw a stage's trace for the settings (cached), see `show_trace_object`."""
    try:
        trace = get_trace(stage, settings, options)
    except ValueError as err:  # e.g. pooling rules stricter than the convolution's
        st.error(f"This stage cannot run with these settings. {err}")
        if about:
            show_about(about)
        return
    show_trace_object(TraceRef(get_trace, (stage, settings, options), settings), STAGES[stage], about, trace=trace)


def show_trace_object(ref: TraceRef, stage: Stage, about: About | None = None, trace: Trace | None = None) -> None:
    """The player and the animated figure, then the live checks, notes, table, the page's explanation and the code.

    The stage's record gives the figure's rows, the clickable panel (a click on a cell jumps to its step) and the code
    shown. `trace`: `ref.get()` when the caller has it already (each cache lookup hashes the settings, and this is
    every run's path).
    """
    if trace is None:
        trace = ref.get()
    key = stage.name
    rows_t = stage.rows_of(trace)
    _figure_view(ref, key, rows_t, stage.clickable)
    legend(trace)
    for c in trace.checks:
        (st.success if c.ok else st.error)(("✓ " if c.ok else "✗ ") + escape_md(c.text))
    for note in trace.notes:
        st.markdown("- " + escape_md(note))
    if trace.table:
        header, *body = trace.table

        def md(v):  # st.table renders Markdown in cells and headers: 'SH*sH = 1*48' would lose its '*'s to italics
            return escape_md(v) if isinstance(v, str) else v

        st.table([{md(h): md(v) for h, v in zip(header, r)} for r in body])
    if about:
        show_about(about)
    if stage.code:
        # Lazy: the source is sent only while the expander is open (opening it reruns the page), not on every rerun.
        box = st.expander(CODE_LABEL, key=f"cv_code_{key}", on_change="rerun")
        if box.open:
            with box:
                for fn in stage.code:
                    st.code(inspect.getsource(fn), language="python")


def legend(trace: Trace) -> None:
    roles = []
    for s in trace.steps:
        for h in s.highlights:
            if h.role not in roles:
                roles.append(h.role)
    if any(p.padding is not None and p.padding.any() for p in trace.panels) and "padding" not in roles:
        roles.append("padding")

    def chip(r: str) -> str:
        style = (f"background:{ROLE_COLOURS[r]};border:1px solid #888" if r in FILL_ROLES
                 else f"border:3px solid {ROLE_COLOURS[r]}")
        return f"<span style='{style};padding:0 .55em;margin-right:.3em'>&nbsp;</span>{ROLE_MEANING[r]}&nbsp;&nbsp;"

    chips = " ".join(chip(r) for r in roles)
    st.markdown(f"<div style='font-size:0.9em'>{chips}</div>", unsafe_allow_html=True)


def _span_text(lo: int, hi: int, first: int) -> str:
    return f"{lo + first:,}–{hi - 1 + first:,}"


def window_notes(windows: Sequence[dict], movable: bool = True) -> list[str]:
    """One line per figure that shows panels in part (see trace_figure's max_panel_cells): which rows and columns of
    which panels, why, and how to see the rest. Panels cut the same way (e.g. i and j) share the line."""
    groups: dict[tuple, list[dict]] = {}
    for w in windows:
        (gh, gw), (r0, r1), (c0, c1) = w["shape"], w["rows"], w["cols"]
        parts = []
        if (r0, r1) != (0, gh):
            parts.append(f"rows {_span_text(r0, r1, w['row_start'])} of {gh:,}")
        if (c0, c1) != (0, gw):
            parts.append(f"columns {_span_text(c0, c1, w['col_start'])} of {gw:,}")
        groups.setdefault(tuple(parts), []).append(w)
    out = []
    for parts, ws in groups.items():
        names = [f"**{escape_md(w['title'])}**" for w in ws]
        names_text = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        big = max(ws, key=lambda w: w["shape"][0] * w["shape"][1])
        gh, gw = big["shape"]
        how = ("Step or click elsewhere to move the window, or lower" if movable else "Lower")
        out.append(f"Showing {' and '.join(parts)} of {names_text}: at these settings the largest is {gh:,} × {gw:,} = "
                   f"{gh * gw:,} cells, more than a figure draws readably (at most {MAX_PANEL_CELLS:,} cells a panel). "
                   f"{how} H, W, C or the kernel size to see it all; every number shown is exact.")
    return out


def _anchor(key: str, view: tuple, step: int, frames_of: Callable[[int], list[int]]) -> int:
    """The step the figure is built round. Kept while the view is the same and its figure has a frame for the step on
    screen (so a step the player reports changes no chart); otherwise the step on screen."""
    held = st.session_state.get(f"cv_anchor_{key}")
    if held is not None and held[0] == view and step in frames_of(held[1]):
        return held[1]
    st.session_state[f"cv_anchor_{key}"] = (view, step)
    return step


def view_notes(trace: Trace, meta: dict) -> None:
    """What the figure leaves out, and why: sampled steps, panels shown in part, numbers not printed."""
    n = len(trace.steps)
    if trace.total_steps > n:
        st.caption(f"Showing {n} of {trace.total_steps} steps, evenly spaced (the app's step budget is {STEP_BUDGET}); "
                   "every value shown is still exact.")
    for line in window_notes(meta.get("windows") or [], bool(meta.get("windows_movable", True))):
        st.info(line)
    shown = len(meta.get("frame_steps") or [])
    in_view = int(meta.get("steps_in_view", n))
    if in_view < n:
        st.caption(f"The player has {shown} of the {in_view} steps whose cells are inside the part shown; clicking a "
                   "cell elsewhere moves the part shown.")
    elif 1 < shown < n:
        st.caption(f"The player has {shown} of these {n} steps, evenly spaced, so the figure stays small.")
    if meta.get("numbers_hidden"):
        st.caption(f"Numbers are printed in the cells of figures up to {MAX_TEXT_CELLS:,} cells (each one is redrawn on "
                   "every animation frame); hover a cell for its value.")
    elif meta.get("numbers_unprinted"):
        names = list(dict.fromkeys(meta["numbers_unprinted"]))
        which = "every panel" if len(names) == len(trace.panels) else ", ".join(f"'{n}'" for n in names)
        st.caption(escape_md(f"No numbers in the cells of {which}: too small to read them at this size (15 px at least) "
                             "or to fit the longest one. Hover a cell for its value, or use presenter mode's larger "
                             "cells."))


@st.fragment
def _figure_view(ref: TraceRef, key: str, rows_t: tuple, clickable: str | None) -> None:
    """The player, the figure it steps, the downloads, and the notes on what the figure leaves out."""
    touch()  # a fragment rerun is activity too: the caches are in use
    trace = ref.get()
    n = len(trace.steps)
    step = min(max(int(st.session_state.get(f"cv_step_{key}", 0)), 0), max(n - 1, 0))
    presenter = presenting()
    screen = session_screen()
    # The caption box holds the longest caption of any step (so the figure never moves), sized here from the player's
    # measures of the font: the figure is laid out for it at once.
    captions = caption_texts(trace, list(range(n)))
    heading = page_title() if n > 1 else ""  # a player of one step shows no bar to put the title in
    place = placement(trace, rows_t, screen, presenter, captions, heading)
    box = place.box

    def frames_of(anchor: int) -> list[int]:
        return list((figure_for(trace, rows_t, anchor, clickable, box).layout.meta or {}).get("frame_steps") or [])

    anchor = _anchor(key, (ref, rows_t, clickable, box), step, frames_of)
    fig = figure_for(trace, rows_t, anchor, clickable, box)
    meta = fig.layout.meta or {}
    frames = list(meta.get("frame_steps") or [])
    shown = step if step in frames else anchor
    chart_key = CHART_KEY + key
    token = hashlib.blake2b(repr((fig.layout.datarevision, anchor, fig.layout.width, fig.layout.height)).encode(),
                            digest_size=8).hexdigest()
    click_trace = meta.get("click_trace")
    clicks = click_cells_for(trace, clickable) if click_trace is not None else None
    figure = {"revision": fig.layout.datarevision, "width": fig.layout.width, "height": fig.layout.height}
    fig_col = side_col = contextlib.nullcontext()  # the player over the chart, as the fragment's own elements
    if place.side:
        # The player's column takes what the figure leaves (at least `place.side`), so it sits next to the cells.
        fig_w = fig.layout.width or box.width
        side_w = max(place.side, screen.cw - fig_w - 2 - COLUMN_GAP_PX)
        fig_col, side_col = st.columns([fig_w + 2, side_w], gap="small")
        place = dataclasses.replace(place, caption_px=screen.caption_px(captions, side_w))
    in_bar = place.title and not place.side  # the page's title in the player's bar over the figure
    with side_col:
        if in_bar:
            hide_page_title()
        elif place.title:
            title_beside()
        player(key, chart_key, trace, frames, shown, clicks, click_trace, presenter, token, figure, place.caption_px,
               side=bool(place.side), heading=heading if in_bar else "")
    with fig_col:
        # Fixed size: cells and their outlines are sized in pixels; theme=None keeps the colours as designed.
        st.plotly_chart(fig, key=chart_key, on_select="ignore", width="content", theme=None,
                        config={"displaylogo": False, "scrollZoom": False, "displayModeBar": False})
    if presenter and len(frames) > 1:
        with side_col:
            st.caption(keys_help(bool(clicks)))
    export_box = FigureBox(980, None, 34.0, 12)  # files keep the classic size, with Plotly's own player and titles
    export_row(trace, fig, key, shown, ref.settings or settings_of_session(),
               rebuild=lambda: figure_for(ref.get(), rows_t, shown, clickable, export_box, controls=True),
               view=(ref, rows_t, shown, clickable))
    view_notes(trace, meta)
