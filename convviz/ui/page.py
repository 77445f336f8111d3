"""What every page does: read the shared settings, build the data, show the geometry facts, draw a trace.

Pages stay short flat scripts: `ctx = page_context()` then a cached trace, then `show_trace(...)`.
Engine work and figure building are cached on the settings (bounded caches), so a rerun that changes
nothing recomputes nothing.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

# Imported here, once, under this module's import lock: plotly's validators use pandas if sys.modules has it, and
# when two sessions' first runs overlap, one thread could otherwise see the half-imported pandas of the other
# (AttributeError: partially initialized module 'pandas' has no attribute 'Series'; found by bench/load.py).
import pandas  # noqa: F401
import plotly.graph_objects as go
import streamlit as st

from .. import data as cvdata
from ..figures import ROLE_COLOURS, ROLE_MEANING, trace_figure
from ..figures.trace_figure import CLICK_MIN_PX, FILL_ROLES, MAX_PANEL_CELLS, MAX_TEXT_CELLS
from ..geometry import ConvSpec
from ..traces.base import Trace
from .controls import stop_page
from .export import export_row
from .housekeeping import register_releaser, touch
from .settings import Settings
from .shell import ensure_app_navigation
from .stages import STAGES, STEP_BUDGET

Options = tuple  # sorted (name, value) pairs of a stage's options, e.g. (("f", 0), ("n", 0))


@dataclass(frozen=True)
class TraceRef:
    """Where a shown trace comes from: a cached builder and its small, hashable arguments.

    What a session keeps after its run holds this, never the trace or its figure: the figure fragment (rerun on a
    step move or a cell click) and the deferred downloads fetch them again from the shared caches (a hit, or a
    recomputation after the idle release). Streamlit keeps a session's fragments and deferred downloads until the
    session ends, and keeps a closed tab's session for a reconnect (in 1.67 until some later write to its session
    store reaps it), so a trace held there would outlive the bounded caches: after bench/load.py's 20 sessions at
    small settings, the idle release left 89 k objects (16 MB) alive that these references pinned; a col2im trace at
    the largest settings is tens of MB by itself.
    """

    build: Callable[..., Trace]
    args: tuple

    def get(self) -> Trace:
        return self.build(*self.args)


CACHE_ENTRIES = 48


@dataclass(frozen=True)
class Arrays:
    """The layer's data for the current settings."""

    x: np.ndarray
    w: np.ndarray
    b: np.ndarray
    dout: np.ndarray


@dataclass(frozen=True)
class Context:
    settings: Settings
    spec: ConvSpec
    arrays: Arrays


def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner=False)
def build_arrays(settings: Settings) -> Arrays:
    """x, w, b and an upstream gradient dout for the settings (raises ValueError on a bad custom kernel).

    Shared read-only between sessions: nothing downstream writes into them.
    """
    spec = settings.spec()
    custom = settings.custom_kernel() if settings.kernel == "custom" else None
    return Arrays(
        x=_readonly(cvdata.make_input(spec, settings.data, settings.seed)),
        w=_readonly(cvdata.make_kernel(spec, settings.kernel, settings.seed, custom)),
        b=_readonly(cvdata.make_bias(spec, settings.kernel, settings.seed)),
        dout=_readonly(cvdata.make_dout(spec.output_shape, settings.seed)),
    )


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner=False)
def get_trace(stage: str, settings: Settings, options: Options = ()) -> Trace:
    """The (immutable, shared) trace of one stage for the settings."""
    return STAGES[stage](settings.spec(), build_arrays(settings), **dict(options))


def options_of(**kw) -> Options:
    return tuple(sorted(kw.items()))


def settings_of_session() -> Settings:
    """The settings app.py put in the session (defaults when a page runs on its own, e.g. in a test)."""
    return st.session_state.get("cv_settings", Settings())


def coverage_text(spec: ConvSpec) -> str:
    """Which rows and columns no window reads: the remainder at the bottom/right of the padded input, and x's own rows
    and columns before it that no tap lands on (numbered from 0, as the figures label them)."""
    parts = []
    if spec.rem_h or spec.rem_w:
        parts.append(f"uncovered: {spec.rem_h} row(s), {spec.rem_w} column(s) at the bottom/right")
    rows, cols = list(spec.skipped_input("h")), list(spec.skipped_input("w"))
    if rows or cols:
        lists = [f"{name} {_listing(idx)}" for name, idx in (("rows", rows), ("columns", cols)) if idx]
        parts.append(f"no tap lands on x's {'; '.join(lists)} (zero gradient)")
    return " · ".join(parts) or "every row and column is covered"


def _listing(values: list[int], most: int = 6) -> str:
    """'0, 2, 4' or, past `most` values, '0, 2, 4, 6, 8, 10, … (16 in all)'."""
    head = ", ".join(map(str, values[:most]))
    return head if len(values) <= most else f"{head}, … ({len(values)} in all)"


def geometry_line(spec: ConvSpec, pooling: bool = False) -> str:
    """The facts every page shows, with the user's numbers (a pooling layer has a window, not weights)."""
    unc = coverage_text(spec)
    what = f"window {spec.kernel_size}" if pooling else f"w {spec.weight_shape}"
    return (f"x {spec.input_shape} · {what} · stride {spec.stride} · dilation {spec.dilation} · "
            f"padding (t, b, l, r) {spec.padding} → y {spec.output_shape}  \n"
            f"{spec.output_size_formula('h')} · {spec.output_size_formula('w')} · {unc}")


def page_header(title: str, intro: str) -> None:
    """A page's title and intro (folded away in presenter mode)."""
    ensure_app_navigation()  # a first-run deep link may execute this page without app.py: rerun through app.py
    st.title(title)
    if st.session_state.get("cv_present"):  # on a projector the figure comes first
        with st.expander("What this page teaches"):
            st.markdown(intro)
    else:
        st.markdown(intro)


def page_context(title: str, intro: str, geometry: bool = True) -> Context:
    """Title, intro, geometry facts of the sidebar's layer (unless the page states its own); stops the page with a
    plain explanation if the settings are impossible."""
    page_header(title, intro)
    settings = settings_of_session()
    try:
        spec = settings.spec()
        arrays = build_arrays(settings)
    except ValueError as err:
        st.error(f"These settings do not make a valid layer. {err}")
        st.info("Change the controls in the sidebar (or press 'Reset to defaults').")
        stop_page()
    if geometry:
        st.caption(geometry_line(spec))
    return Context(settings, spec, arrays)


def presenter_style() -> None:
    """Presenter mode: larger text for a projector (the figures get larger cells and fonts themselves), and less space
    above the page than Streamlit's 6rem, but not less than its 3.75rem header, which would cover the first control."""
    if st.session_state.get("cv_present"):
        st.markdown("<style>section.main, [data-testid='stMain'] { font-size: 1.3rem; } "
                    "[data-testid='stMain'] p, [data-testid='stMain'] li { font-size: 1.3rem; } "
                    "[data-testid='stMain'] button p { font-size: 1.4rem; } "
                    "[data-testid='stMainBlockContainer'] { padding-top: 4rem; }</style>", unsafe_allow_html=True)


def pick_index(label: str, count: int, key: str, help: str | None = None) -> int:
    """A small selector for sample / channel when there is more than one; 0 otherwise."""
    if count <= 1:
        return 0
    return int(st.selectbox(label, range(count), key=key, help=help))


def pick_indices(prefix: str, **axes: tuple[str, int]) -> tuple[int, ...]:
    """Side-by-side selectors, e.g. pick_indices("fwd", n=("sample n", N), f=("output channel f", F)) -> (n, f).

    An axis of size 1 gets no selector (index 0), so single-sample, single-channel settings stay uncluttered.
    """
    picked = []
    for column, (name, (label, count)) in zip(st.columns(max(1, len(axes))), axes.items()):
        with column:
            picked.append(pick_index(label, count, f"{prefix}_{name}"))
    return tuple(picked)


def escape_md(text: str) -> str:
    """Captions contain '*' and '_' (products, names): show them literally in Markdown."""
    for ch in "\\*_`[]<>#|~$":
        text = text.replace(ch, "\\" + ch)
    return text


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


@st.cache_resource(max_entries=1, show_spinner=False)
def _figure_store() -> dict:
    """Figures of live traces, keyed on the trace's identity and the view; bounded below."""
    return {}


def release_caches() -> None:
    """Drop the pages' shared caches (the housekeeping thread calls this once the app has been idle a while)."""
    for cached in (build_arrays, get_trace, _figure_store, _gradcheck_store):
        cached.clear()


def figure_for(trace: Trace, rows: tuple, start: int, clickable: str | None, cell_px: float, font_size: int) -> go.Figure:
    """The figure of a trace for one view, built once. The entry keeps the trace alive, so its id stays unique."""
    store = _figure_store()
    key = (id(trace), rows, start, clickable, cell_px, font_size)
    hit = store.get(key)
    if hit is not None and hit[0] is trace:
        return hit[1]
    fig = trace_figure(trace, rows=[list(r) for r in rows], start=start, clickable=clickable, cell_px=cell_px,
                       font_size=font_size)
    while len(store) >= CACHE_ENTRIES:
        store.pop(next(iter(store)))
    store[key] = (trace, fig)
    return fig


def show_trace(
    stage: str,
    settings: Settings,
    options: Options = (),
    key: str | None = None,
    rows: Sequence[Sequence[str]] | None = None,
    clickable: str | None = None,
    code: Sequence[Callable] = (),
    select_label: str = "output cell",
) -> int:
    """Draw a stage's trace for the settings (cached), see `show_trace_object`."""
    try:
        trace = get_trace(stage, settings, options)
    except ValueError as err:  # e.g. pooling rules stricter than the convolution's
        st.error(f"This stage cannot run with these settings. {err}")
        return 0
    return show_trace_object(TraceRef(get_trace, (stage, settings, options)), key or stage, rows, clickable, code, select_label,
                             trace=trace)


CODE_LABEL = "The engine's NumPy code for this stage"


def show_trace_object(
    ref: TraceRef,
    key: str,
    rows: Sequence[Sequence[str]] | None = None,
    clickable: str | None = None,
    code: Sequence[Callable] = (),
    select_label: str = "output cell",
    trace: Trace | None = None,
) -> None:
    """Draw the trace's animated figure, the chosen step's caption, the live checks, notes, table and code.

    A click on a cell of `clickable` (or the step selector) chooses the step shown first. The figure part is
    a fragment: moving the step or clicking a cell reruns only it, not the page. `trace`: `ref.get()` when the
    caller has it already (each cache lookup hashes the settings, and this is every run's path).
    """
    if trace is None:
        trace = ref.get()
    rows_t = tuple(tuple(r) for r in (rows or [[p.name for p in trace.panels]]))
    _figure_view(ref, key, rows_t, clickable, select_label)
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
    if code:
        # Lazy: the source is sent only while the expander is open (opening it reruns the page), not on every rerun.
        box = st.expander(CODE_LABEL, key=f"cv_code_{key}", on_change="rerun")
        if box.open:
            with box:
                for fn in code:
                    st.code(inspect.getsource(fn), language="python")


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
        how = ("Choose another step to move the window, or lower" if movable else "Lower")
        out.append(f"Showing {' and '.join(parts)} of {names_text}: at these settings the largest is {gh:,} × {gw:,} = "
                   f"{gh * gw:,} cells, more than a figure draws readably (at most {MAX_PANEL_CELLS:,} cells a panel). "
                   f"{how} H, W, C or the kernel size to see it all; every number shown is exact.")
    return out


def _move_step(slider_key: str, delta: int, count: int) -> None:
    """Button callback (runs before the script, so the slider is created with the new value)."""
    st.session_state[slider_key] = min(max(int(st.session_state.get(slider_key, 0)) + delta, 0), count - 1)


@st.fragment
def _figure_view(ref: TraceRef, key: str, rows_t: tuple, clickable: str | None, select_label: str) -> None:
    """Step selector, animated figure (with click-to-select) and the chosen step's caption."""
    touch()  # a fragment rerun is activity too: the caches are in use
    trace = ref.get()
    state_key = f"cv_step_{key}"
    start = int(st.session_state.get(state_key, 0))
    start = min(max(start, 0), max(len(trace.steps) - 1, 0))
    presenter = bool(st.session_state.get("cv_present", False))
    cell_px, font_size = (52.0, 18) if presenter else (34.0, 12)
    slider_key = f"cv_slider_{key}"
    if len(trace.steps) > 1:
        if st.session_state.get(slider_key) not in range(len(trace.steps)):
            # Set through Session State (not value=) so the browser's slider moves too: a clicked cell's step
            # (the click handler drops this key) would otherwise be undone by the slider's stale value on the next rerun.
            st.session_state[slider_key] = start
        start = int(st.session_state[slider_key])  # what the step selector below will return
    fig = figure_for(trace, rows_t, start, clickable, cell_px, font_size)
    meta = fig.layout.meta or {}
    click = bool(clickable) and bool(meta.get("click_grid", True))
    if len(trace.steps) > 1:
        labels = [f"{t + 1}: {s.title}" for t, s in enumerate(trace.steps)]
        if presenter:
            prev_col, next_col = st.columns(2)
            prev_col.button("◀ Previous step", key=f"cv_prev_{key}", use_container_width=True, disabled=start <= 0,
                            on_click=_move_step, args=(slider_key, -1, len(trace.steps)))
            next_col.button("Next step ▶", key=f"cv_next_{key}", use_container_width=True,
                            disabled=start >= len(trace.steps) - 1, on_click=_move_step, args=(slider_key, 1, len(trace.steps)))
        start = st.select_slider(f"Step, or click a{'n' if select_label[0] in 'aeiou' else ''} {select_label} in the figure"
                                 if click else "Step (Play below animates in the browser)",
                                 options=range(len(trace.steps)),
                                 format_func=lambda t: labels[t], key=slider_key)
        st.session_state[state_key] = start
    if trace.total_steps > len(trace.steps):
        st.caption(f"Showing {len(trace.steps)} of {trace.total_steps} steps, evenly spaced (the app's step budget "
                   f"is {STEP_BUDGET}); every value shown is still exact.")
    shown = len(meta["frame_steps"]) if meta else len(trace.steps)
    for line in window_notes(meta.get("windows") or [], bool(meta.get("windows_movable", True))):
        st.info(line)
    in_view = int(meta.get("steps_in_view", len(trace.steps))) if meta else len(trace.steps)
    if in_view < len(trace.steps):
        st.caption(f"The animation plays {shown} of the {in_view} steps whose cells are inside the part shown; "
                   "the step selector reaches every step and moves the part shown with it.")
    elif 1 < shown < len(trace.steps):
        st.caption(f"The animation plays {shown} of these {len(trace.steps)} steps so the figure stays small; "
                   "the step selector reaches every one.")
    if meta.get("numbers_hidden"):
        st.caption(f"Numbers are printed in the cells of figures up to {MAX_TEXT_CELLS:,} cells (each one is redrawn on "
                   "every animation frame); hover a cell for its value.")
    elif meta.get("numbers_unprinted"):
        names = list(dict.fromkeys(meta["numbers_unprinted"]))
        which = "every panel" if len(names) == len(trace.panels) else ", ".join(f"'{n}'" for n in names)
        st.caption(escape_md(f"No numbers in the cells of {which}: too small to read them at this size (15 px at least) "
                             "or to fit the longest one. Hover a cell for its value, or use presenter mode's larger "
                             "cells."))
    if clickable and not click:
        st.caption(f"At this size the cells are too small to click (under {CLICK_MIN_PX:.0f} px); the step selector "
                   "reaches every step.")
    # Fixed width: cells and their outlines are sized in pixels; theme=None keeps the colours as designed.
    event = st.plotly_chart(fig, key=f"cv_chart_{key}_{start}", on_select="rerun" if click else "ignore",
                            selection_mode="points", width="content", theme=None,
                            config={"displaylogo": False, "scrollZoom": False})
    if click and event:
        points = (event.get("selection") or {}).get("points") or []
        for pt in points:
            cd = pt.get("customdata")
            if isinstance(cd, dict):  # a NumPy customdata row reaches us from the browser as {"0": r, "1": c}
                cd = [cd.get("0"), cd.get("1")]
            if isinstance(cd, (list, tuple)) and len(cd) == 2 and all(isinstance(v, (int, float)) for v in cd):
                t = trace.step_for_click(clickable, (int(cd[0]), int(cd[1])))
                if t is not None and t != start:
                    st.session_state[state_key] = t
                    st.session_state.pop(f"cv_slider_{key}", None)
                    st.rerun(scope="fragment")
    if trace.steps:
        step = trace.steps[start]
        st.markdown(f"**{escape_md(step.title)}**  \n{escape_md(step.caption)}")
    view = (rows_t, start, clickable, cell_px, font_size)
    export_row(trace, fig, key, start, settings_of_session(), rebuild=lambda: figure_for(ref.get(), *view),
               view=(ref, *view))


GRADCHECK_BUDGET = 600  # numeric estimates per array at most (each costs two forward passes)
GRADCHECK_SECONDS = 0.5  # and about this much time in all (~0.5 s at the largest settings), so a first visit stays quick


def gradcheck_entries(settings: Settings, timings: int = 3) -> int:
    """Estimates per array that fit GRADCHECK_SECONDS, from the time of a forward pass here and now.

    The first pass at new settings is not timed: it builds im2col's index arrays and touches new memory, and took
    8 ms where the next ones took 0.6-0.8 ms at the largest settings. Timing it (as this did) sampled 20 of the
    16,384 dx entries on a first visit, where ~130 fit the budget. The fastest of `timings` warm passes is used.
    """
    import time

    from ..conv import conv2d_spec

    a, spec = build_arrays(settings), settings.spec()
    conv2d_spec(a.x, a.w, a.b, spec, "im2col")  # warm-up, untimed
    best = float("inf")
    for _ in range(max(1, timings)):
        t = time.perf_counter()
        conv2d_spec(a.x, a.w, a.b, spec, "im2col")
        best = min(best, time.perf_counter() - t)
    per_forward = max(best, 1e-5)
    return int(min(GRADCHECK_BUDGET, max(20, GRADCHECK_SECONDS / (2 * per_forward) / 3)))


@st.cache_resource(max_entries=8, show_spinner=False)
def _gradcheck_store() -> dict:
    """A small shared store of finished gradient checks (bounded below), keyed on settings and selection."""
    return {}


def gradcheck_trace_cached(settings: Settings, n: int, f: int) -> Trace:
    """The gradient-check trace, computed once per settings with a progress bar, then served from the store."""
    from ..traces import gradcheck_trace

    store = _gradcheck_store()
    key = (settings, n, f)
    if key not in store:
        a = build_arrays(settings)
        bar = st.progress(0.0, text="Estimating gradients by central differences…")
        trace = gradcheck_trace(a.x, a.w, a.b, a.dout, settings.spec(), n=n, f=f, max_entries=gradcheck_entries(settings),
                                progress=lambda frac: bar.progress(min(1.0, frac), text=f"Central differences: {frac:.0%}"))
        bar.empty()
        while len(store) >= CACHE_ENTRIES:
            store.pop(next(iter(store)))
        store[key] = trace
    return store[key]


register_releaser(release_caches)
