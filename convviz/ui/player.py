"""The step player of an animated figure: one step state for the animation, its caption, clicks, keys and exports.

The player (player.js, a Streamlit components-v2 element beside the chart) steps the Plotly chart in the browser, so
stepping never waits for the server, and tells the server the step on screen once it rests: the PNG export then
draws the step the learner sees. It also reports the room the figure has (viewport, column width, where the player
starts, its bar and the caption font), from which the figure's cells and arrangement are chosen.

Why a player of our own rather than Plotly's buttons and slider: those live inside the figure (redrawn on every
frame), cannot step by one, and tell nobody which step they show.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from ..traces.base import Trace

_HERE = Path(__file__).parent
PLAYER = st.components.v2.component(
    "convviz_player",
    html=(_HERE / "player.html").read_text(),
    css=(_HERE / "player.css").read_text(),
    js=(_HERE / "player.js").read_text(),
)
KEYS_HELP = "Keys: → or PageDown next step · ← or PageUp previous · Space play / pause · Home / End first / last step"
CLICK_HELP = " · click a cell to jump to its step"


def keys_help(clickable: bool) -> str:
    """Presenter mode's line on what steps the figure: the keys, and a click on a cell where the figure takes one."""
    return KEYS_HELP + (CLICK_HELP if clickable else "")
PLAYER_KEY = "cv_player_"  # + the stage's name: a player's widget key (its element's CSS class st-key-...)
CHART_KEY = "cv_chart_"  # + the stage's name: the key of the chart a player steps
SCREEN = "cv_screen"  # session key: the last Screen a player reported
COOKIE = "cv_screen"  # the same, kept by the browser, for the first run of the next session


@dataclass(frozen=True)
class Screen:
    """The browser's room for a figure, in CSS pixels, as the player measured it (nothing here depends on the figure
    or its captions, so new settings are laid out at once).

    vw, vh: the viewport; cw: the width of the page's column; top: where the player starts on the page; bar: the
    height of its buttons' bar; line, char: a caption line's height and its mean character width (None when only
    the cookie's size is known); title: the presenter's page title's height with the gap under it (0 or None: no
    such title)."""

    vw: int
    vh: int
    cw: int
    top: int | None = None
    bar: int | None = None
    line: float | None = None
    char: float | None = None
    title: int | None = None

    @property
    def phone(self) -> bool:
        return self.vw < 640

    def caption_px(self, texts: list[str], width: int | None = None) -> int:
        """The height of a caption box `width` pixels wide (default: the page column's) that holds the longest of
        `texts` (a little wider than the measured mean, for the bold step title)."""
        if not self.line or not self.char:
            return 0
        per_line = max(10, int((width or self.cw) / (self.char * 1.08)))
        return int(max((-(-len(t) // per_line) for t in texts), default=1) * self.line) + 2

    def room(self, caption_px: int) -> int | None:
        """The height left under the player's caption on the first screen (None when not measured)."""
        if self.top is None or self.bar is None:
            return None
        return self.vh - self.top - self.bar - caption_px - CAPTION_MARGIN_PX


def _int(v, lo: int, hi: int) -> int | None:
    try:
        n = int(float(v))
    except (TypeError, ValueError, OverflowError):
        return None
    return n if lo <= n <= hi else None


SCREEN_KEYS = ("vw", "vh", "cw", "top", "bar", "line", "char", "title")
CAPTION_MARGIN_PX = 9  # the caption box's margins (0.35rem above, 0.2rem below)


def _num(v, lo: float, hi: float) -> float | None:
    try:
        n = float(v)
    except (TypeError, ValueError, OverflowError):
        return None
    return n if lo <= n <= hi else None


def parse_screen(value) -> Screen | None:
    """A Screen from a player's report ({vw, vh, cw, top, bar, line, char, title}) or the cookie (the same joined by "x");
    None if unusable (the sizes come from the browser: anything out of range is dropped)."""
    if isinstance(value, str):
        value = dict(zip(SCREEN_KEYS, value.split("x")))
    if not isinstance(value, dict):
        return None
    vw, vh, cw = (_int(value.get(k), 200, 20_000) for k in ("vw", "vh", "cw"))
    if vw is None or vh is None or cw is None:
        return None
    return Screen(vw, vh, min(cw, vw), _int(value.get("top"), 0, 20_000), _int(value.get("bar"), 0, 2_000),
                  _num(value.get("line"), 8, 200), _num(value.get("char"), 2, 100), _int(value.get("title"), 0, 2_000))


def session_screen() -> Screen | None:
    """The room last reported in this session, else what the browser remembered from its last session."""
    held = st.session_state.get(SCREEN)
    if held is not None:
        return held
    try:
        return parse_screen(st.context.cookies.get(COOKIE))
    except Exception:  # no browser context (AppTest)
        return None


def click_cells(trace: Trace, panel: str | None) -> dict[str, int] | None:
    """{"row,col": step} for every cell of `panel` whose click chooses a step (labels as the figure prints them)."""
    if not panel or not trace.steps:
        return None
    return {f"{r},{c}": t for (r, c), t in trace.click_map(panel).items()}


def _store_step(key: str) -> None:
    step = st.session_state.get(PLAYER_KEY + key, {}).get("step")
    if isinstance(step, int) and not isinstance(step, bool):
        st.session_state[f"cv_step_{key}"] = step


def _store_screen(key: str) -> None:
    screen = parse_screen(st.session_state.get(PLAYER_KEY + key, {}).get("screen"))
    if screen is not None:
        st.session_state[SCREEN] = screen


def caption_texts(trace: Trace, frame_steps: list[int]) -> list[str]:
    """What the player's caption box shows at each frame: the step's title and its caption."""
    return [f"{trace.steps[t].title}: {trace.steps[t].caption}" for t in frame_steps]


def player(key: str, chart_key: str, trace: Trace, frame_steps: list[int], start: int, clicks: dict[str, int] | None,
           click_trace: int | None, presenter: bool, token: str, figure: dict | None = None, caption_px: int = 0,
           side: bool = False, heading: str = "") -> None:
    """Draw the player of the chart `chart_key` (drawn next, by the caller).

    Args:
        frame_steps: the trace steps the figure has frames for, in order; start: the step shown first.
        clicks: `click_cells` of the clickable panel (None: no cell is clickable).
        click_trace: index of the clickable panel's heatmap in the figure's data.
        token: changes whenever the chart is a new figure (the player then shows `start`, unless the step it shows,
            fresher than the server's, is in the new figure too).
        figure: the chart's layout.datarevision, width and height as {revision, width, height} (None: any chart).
        caption_px: the caption box's height the figure was laid out for (0: the player measures its captions).
        side: the player is in a column beside the chart, where its bar wraps and the page's title may sit over it:
            it reports the bar's height, its top and the title's height it had over the chart, so the screen it
            reports is the same wherever it is.
        heading: the page's title, shown at the start of the bar (presenter mode, the title not over the page).
    """
    n = len(trace.steps)
    frames = list(frame_steps) or ([start] if n else [])
    screen = session_screen()
    data = {
        "chart": chart_key,
        "token": token,
        "figure": figure,
        "frames": [str(t) for t in frames],
        "steps": frames,
        "titles": [f"{trace.steps[t].title}:" if n else "" for t in frames],
        "captions": [trace.steps[t].caption if n else "" for t in frames],
        "start": frames.index(start) if start in frames else 0,
        "total": n,
        "clicks": {"trace": click_trace, "cells": clicks} if clicks else None,
        "font": "1.3rem" if presenter else "1rem",
        "screen": vars(screen) if screen else None,
        "caption_px": caption_px,
        "side": side,
        "heading": heading,
    }
    PLAYER(key=PLAYER_KEY + key, data=data, on_step_change=lambda: _store_step(key),
           on_screen_change=lambda: _store_screen(key))
