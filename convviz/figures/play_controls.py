"""The animation's controls and titles: play/pause at three speeds, a step slider, and each frame's step title.

All client-side: plotly.js plays the figure's frames without a round trip to the server.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .grid import wrap

# Per animation frame. A frame starts when the previous one is drawn and at least this long after it started, so
# Fast runs at min(20, 1000 / draw time) frames a second.
FRAME_MS = {"play": 700, "fast": 50, "slow": 1600}
SLIDER_LABELS = 24  # step numbers printed under the slider at most (each is redrawn on every frame)


def frame_title(title: str, caption: str, t: int, n: int, width: int = 120) -> str:
    """The figure's title while step t (of n) shows: the step's title in bold, its caption wrapped at `width`."""
    return f"<b>Step {t + 1}/{n}: {title}</b><br>{wrap(caption, width)}"


def caption_width(fig_width: int, font_size: int) -> int:
    """Caption characters per line of a frame title across a figure `fig_width` pixels wide."""
    return max(40, int((fig_width - 40) / (0.56 * (font_size + 1))))


def title_room(titles: Sequence[str], font_size: int) -> int:
    """Pixels above the plot for the longest of the animation's titles (its lines at ~font + 4 px each), no more: a
    fixed number of lines would leave a blank band under short titles."""
    lines = max(t.count("<br>") + 1 for t in titles)
    return 40 + max(2, lines) * (font_size + 4)


def controls(kept: list[int], start: int, font_size: int) -> dict:
    """Layout entries for play/pause at three speeds and a step slider over the frames of steps `kept`."""
    def play(ms: int) -> dict:
        return dict(frame=dict(duration=ms, redraw=True), transition=dict(duration=0), fromcurrent=True, mode="immediate")

    pause = dict(frame=dict(duration=0, redraw=True), transition=dict(duration=0), mode="immediate")
    label_every = max(1, int(np.ceil(len(kept) / SLIDER_LABELS)))  # the current step's number shows above the slider
    return dict(
        updatemenus=[dict(
            type="buttons", direction="left", x=0.0, y=0.0, xanchor="left", yanchor="top", pad=dict(t=8, r=10),
            showactive=False, font=dict(size=font_size),
            buttons=[
                dict(label="▶ Play", method="animate", args=[None, play(FRAME_MS["play"])]),
                dict(label="❚❚ Pause", method="animate", args=[[None], pause]),
                dict(label="▶▶ Fast", method="animate", args=[None, play(FRAME_MS["fast"])]),
                dict(label="▷ Slow", method="animate", args=[None, play(FRAME_MS["slow"])]),
            ],
        )],
        sliders=[dict(
            active=kept.index(start) if start in kept else 0, x=0.0, y=0.0, len=1.0, xanchor="left", yanchor="top",
            # No "step N" over the slider: the title says "Step N/M" already, and plotly.js would measure and redraw
            # that label on every frame.
            pad=dict(t=20 + 2 * font_size), currentvalue=dict(visible=False),
            font=dict(size=max(8, font_size - 3)),
            steps=[dict(label=str(t + 1) if k % label_every == 0 else "", method="animate", args=[[str(t)], pause])
                   for k, t in enumerate(kept)],
        )],
    )
