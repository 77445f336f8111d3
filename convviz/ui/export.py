"""The export row under every figure: animated GIF, offline HTML, PNG of the current step, and the code.

HTML, PNG and the script are built only when their download button is clicked (deferred `data` callables,
run by Streamlit on a worker thread), so drawing the page costs nothing. The GIF takes seconds, so it is
rendered on a button press with a progress bar, kept in the session, and then offered for download.
Image export needs a Chromium; without one the row says so in a sentence instead of failing.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable
from functools import lru_cache
from urllib.parse import urlencode

import plotly.graph_objects as go
import streamlit as st

from ..codegen import network_script, script_for
from ..figures.export import (
    GIF_MAX_FRAMES,
    GIF_MIN_FRAMES,
    GIF_SECONDS,
    ExportUnavailable,
    animation_gif,
    figure_html,
    frame_png,
    gif_frame_count,
    image_export_problem,
)
from ..network import init_params
from ..stages import STAGES, network_cell, transposed_weights
from ..traces.base import Trace
from .controls import share_link
from .settings import Settings, to_query

GIF_STATE = "cv_gif_"  # session key prefix: (view, GIF bytes) of the last GIF rendered per figure


@lru_cache(maxsize=32)
def view_script(stage: str, settings: Settings) -> str:
    """The "Code for this view" script of a page stage for the settings (pure; cached per process)."""
    from .page import build_arrays

    record = STAGES[stage]
    settings = record.settings_for(settings)
    a = build_arrays(settings)
    layer, script = record.layer(settings), record.script
    query = urlencode(to_query(settings)) or "(all defaults)"
    if record.kind == "network":
        params = init_params(layer.planned, settings.seed, a.x)
        return network_script(layer, a.x, params, network_cell(settings, layer), query)
    if script == "conv_transpose":
        return script_for(script, None, a.x, transposed_weights(a), None, None, query, transposed=layer)
    pool = {}
    if record.kind == "pool":  # the pooling layer the page draws, with its own upstream gradient
        pool = dict(pool_padding=(layer.top, layer.left), pool_dout=record.upstream(layer),
                    count_include_pad=settings.cip == "true")
        layer = settings.spec()  # the script's header states the sidebar's layer; the pooling takes its window
    return script_for(script, layer, a.x, a.w, a.b, a.dout, query, **pool)


def _file_stem(trace: Trace, key: str) -> str:
    return f"convviz_{key or trace.stage or 'figure'}"


def export_row(trace: Trace, fig: go.Figure, key: str, step: int, settings: Settings,
               rebuild: Callable[[], go.Figure], view: Hashable) -> None:
    """Downloads for the figure on screen: GIF (rendered on demand, with progress), HTML, PNG, and the code.

    Args:
        fig: the figure on the page (its frames name the steps a GIF can show).
        step: the trace step on screen (the PNG shows it).
        rebuild: returns the figure for files (with its titles and Plotly's own player) from the shared caches. The
            deferred downloads call this: Streamlit keeps them (and a closed tab's whole session) after the run, so
            they must not hold `fig` or `trace` themselves
            (see page.TraceRef).
        view: a small value naming the view on screen; a GIF rendered for it is offered while that view is shown.
    """
    stem = _file_stem(trace, key)
    stage = trace.stage if trace.stage in STAGES else None
    problem = image_export_problem()
    with st.container(horizontal=True):  # the buttons side by side, under the figure
        _export_popover(trace.title, fig, rebuild, view, key, step, stem, problem)
        _code_button(stage, settings, key, stem)
        share_link(settings)


def _export_popover(title: str, fig: go.Figure, rebuild: Callable[[], go.Figure], view: Hashable, key: str, step: int,
                    stem: str, problem: str | None) -> None:
    with st.popover("📤 Export this figure"):
        st.caption("Files work offline. The HTML file keeps the Play button and the step slider.")
        st.download_button("🌐 Interactive HTML (offline)", data=lambda: figure_html(rebuild(), f"convviz: {title}"),
                           file_name=f"{stem}.html", mime="text/html", on_click="ignore", key=f"cv_dl_html_{key}")
        if problem:
            st.info(f"🖼️ {problem}")
        else:
            st.download_button(f"🖼️ PNG of step {step + 1}", data=lambda: frame_png(rebuild(), step), file_name=f"{stem}_step{step + 1}.png",
                               mime="image/png", on_click="ignore", key=f"cv_dl_png_{key}")
            _gif_part(fig, rebuild, view, key, stem)


def _code_button(stage: str | None, settings: Settings, key: str, stem: str) -> None:
    if stage is not None:
        try:
            view_script(stage, settings)  # built once here so that an impossible stage shows no button at all
        except ValueError:
            return
        st.download_button("🐍 Code for this view (.py)", data=view_script(stage, settings), file_name=f"{stem}.py",
                           mime="text/x-python", on_click="ignore", key=f"cv_dl_code_{key}",
                           help="A self-contained NumPy script with this page's exact numbers; it prints the arrays shown here.")


def _gif_part(fig: go.Figure, rebuild: Callable[[], go.Figure], view: Hashable, key: str, stem: str) -> None:
    frames = len(fig.layout.meta["frame_steps"]) if fig.layout.meta else 1
    shown = min(frames, GIF_MAX_FRAMES)
    state_key = GIF_STATE + key
    if st.button(f"🎞️ Render animated GIF ({'up to ' if shown > GIF_MIN_FRAMES else ''}{shown} frames)", key=f"cv_gif_btn_{key}",
                 help=f"Up to {GIF_MAX_FRAMES} evenly spaced steps of the animation, as many as render in about "
                 f"{GIF_SECONDS:.0f} s (large figures get fewer)."):
        bar = st.progress(0.0, text="Rendering GIF frames…")
        try:
            gif = animation_gif(rebuild(), progress=lambda frac: bar.progress(min(1.0, frac), text=f"Rendering GIF frames: {frac:.0%}"))
        except ExportUnavailable as err:
            bar.empty()
            st.error(f"The GIF could not be made. {err}")
            return
        bar.progress(1.0, text=f"GIF ready: {gif_frame_count(gif)} frames, {len(gif) / 1e6:.1f} MB")
        # Kept with the view itself, not id(fig): an id can be reused by another view's figure once the cache drops it.
        st.session_state[state_key] = (view, gif)
    held = st.session_state.get(state_key)
    if held and held[0] == view:
        st.download_button("⬇️ Download the GIF", data=held[1], file_name=f"{stem}.gif", mime="image/gif",
                           on_click="ignore", key=f"cv_dl_gif_{key}")
