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
import plotly.graph_objects as go
import streamlit as st

from .. import data as cvdata
from ..figures import ROLE_COLOURS, ROLE_MEANING, trace_figure
from ..figures.trace_figure import FILL_ROLES
from ..geometry import ConvSpec
from ..traces.base import Trace
from .settings import Settings
from .shell import ensure_app_navigation
from .stages import STAGES, STEP_BUDGET

Options = tuple  # sorted (name, value) pairs of a stage's options, e.g. (("f", 0), ("n", 0))

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


def geometry_line(spec: ConvSpec) -> str:
    """The facts every page shows, with the user's numbers."""
    unc = f"uncovered: {spec.rem_h} row(s), {spec.rem_w} column(s) at the bottom/right" if (spec.rem_h or spec.rem_w) \
        else "every row and column is covered"
    return (f"x {spec.input_shape} · w {spec.weight_shape} · stride {spec.stride} · dilation {spec.dilation} · "
            f"padding (t, b, l, r) {spec.padding} → y {spec.output_shape}  \n"
            f"{spec.output_size_formula('h')} · {spec.output_size_formula('w')} · {unc}")


def page_context(title: str, intro: str) -> Context:
    """Title, intro, geometry facts; stops the page with a plain explanation if the settings are impossible."""
    ensure_app_navigation()  # a first-run deep link may execute this page without app.py: rerun through app.py
    st.title(title)
    st.markdown(intro)
    settings = settings_of_session()
    try:
        spec = settings.spec()
        arrays = build_arrays(settings)
    except ValueError as err:
        st.error(f"These settings do not make a valid layer. {err}")
        st.info("Change the controls in the sidebar (or press 'Reset to defaults').")
        st.stop()
    st.caption(geometry_line(spec))
    return Context(settings, spec, arrays)


def pick_index(label: str, count: int, key: str, help: str | None = None) -> int:
    """A small selector for sample / channel when there is more than one; 0 otherwise."""
    if count <= 1:
        return 0
    return int(st.selectbox(label, range(count), key=key, help=help))


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


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner=False)
def get_figure(stage: str, settings: Settings, options: Options, rows: tuple, start: int, clickable: str | None,
               cell_px: float, font_size: int) -> go.Figure:
    """The figure of a stage's trace (shared; st.plotly_chart only reads it)."""
    trace = get_trace(stage, settings, options)
    return trace_figure(trace, rows=[list(r) for r in rows], start=start, clickable=clickable, cell_px=cell_px,
                        font_size=font_size)


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

    def figure(rows_t: tuple, start: int, cell_px: float, font_size: int) -> go.Figure:
        return get_figure(stage, settings, options, rows_t, start, clickable, cell_px, font_size)

    return show_trace_object(trace, key or stage, rows, clickable, code, select_label, figure)


def show_trace_object(
    trace: Trace,
    key: str,
    rows: Sequence[Sequence[str]] | None = None,
    clickable: str | None = None,
    code: Sequence[Callable] = (),
    select_label: str = "output cell",
    figure: Callable[[tuple, int, float, int], go.Figure] | None = None,
) -> int:
    """Draw the trace's animated figure, the chosen step's caption, the live checks, notes, table and code.

    A click on a cell of `clickable` (or the step selector) chooses the step shown first. Returns that step.
    """
    rows_t = tuple(tuple(r) for r in (rows or [[p.name for p in trace.panels]]))
    state_key = f"cv_step_{key}"
    start = int(st.session_state.get(state_key, 0))
    start = min(max(start, 0), max(len(trace.steps) - 1, 0))
    if len(trace.steps) > 1:
        labels = [f"{t + 1}: {s.title}" for t, s in enumerate(trace.steps)]
        start = st.select_slider(f"Step, or click a{'n' if select_label[0] in 'aeiou' else ''} {select_label} in the figure"
                                 if clickable else "Step (Play below animates in the browser)",
                                 options=range(len(trace.steps)),
                                 value=start, format_func=lambda t: labels[t], key=f"cv_slider_{key}")
        st.session_state[state_key] = start
    if trace.total_steps > len(trace.steps):
        st.caption(f"Showing {len(trace.steps)} of {trace.total_steps} steps, evenly spaced (the app's step budget "
                   f"is {STEP_BUDGET}); every value shown is still exact.")
    presenter = bool(st.session_state.get("cv_present", False))
    cell_px, font_size = (52.0, 18) if presenter else (34.0, 12)
    if figure is not None:
        fig = figure(rows_t, start, cell_px, font_size)
    else:
        fig = trace_figure(trace, rows=[list(r) for r in rows_t], start=start, clickable=clickable, cell_px=cell_px,
                           font_size=font_size)
    # Fixed width: cells and their outlines are sized in pixels; theme=None keeps the colours as designed.
    event = st.plotly_chart(fig, key=f"cv_chart_{key}_{start}", on_select="rerun" if clickable else "ignore",
                            selection_mode="points", width="content", theme=None,
                            config={"displaylogo": False, "scrollZoom": False})
    if clickable and event:
        points = (event.get("selection") or {}).get("points") or []
        for pt in points:
            cd = pt.get("customdata")
            if cd is not None and len(cd) == 2:
                t = trace.step_for_key((int(cd[0]), int(cd[1])))
                if t is not None and t != start:
                    st.session_state[state_key] = t
                    st.session_state.pop(f"cv_slider_{key}", None)
                    st.rerun()
    if trace.steps:
        step = trace.steps[start]
        st.markdown(f"**{escape_md(step.title)}**  \n{escape_md(step.caption)}")
    legend(trace)
    for c in trace.checks:
        (st.success if c.ok else st.error)(("✓ " if c.ok else "✗ ") + escape_md(c.text))
    for note in trace.notes:
        st.markdown("- " + escape_md(note))
    if trace.table:
        header, *body = trace.table
        st.table([dict(zip(header, r)) for r in body])
    if code:
        with st.expander("The engine's NumPy code for this stage"):
            for fn in code:
                st.code(inspect.getsource(fn), language="python")
    return start


GRADCHECK_BUDGET = 600  # numeric estimates per array at most (each costs two forward passes)


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
        trace = gradcheck_trace(a.x, a.w, a.b, a.dout, settings.spec(), n=n, f=f, max_entries=GRADCHECK_BUDGET,
                                progress=lambda frac: bar.progress(min(1.0, frac), text=f"Central differences: {frac:.0%}"))
        bar.empty()
        while len(store) >= CACHE_ENTRIES:
            store.pop(next(iter(store)))
        store[key] = trace
    return store[key]
