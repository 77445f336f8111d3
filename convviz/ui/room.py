"""Where a figure goes on the screen and the room it has there: under its player or beside it, how wide and tall.

Pure geometry from the screen the player reported (`Screen`) and the captions it will show; nothing here draws or
arranges panels. `trace_view.placement` arranges the figure in each room offered here and keeps the one whose cells
cover the most.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .player import CAPTION_MARGIN_PX, Screen

FIGURE_AIR_PX = 8  # left blank under the figure, so that its bottom edge shows
CHART_GAP_PX = 8  # between the player and the chart under it (page.py's CSS halves Streamlit's 1rem)
ELEMENT_GAP_PX = CHART_GAP_PX + FIGURE_AIR_PX


@dataclass(frozen=True)
class FigureBox:
    """The room a figure is laid out in: width and height in CSS pixels (height None: as tall as it needs), the
    largest cell, the font size of titles and ticks, and whether the panels may leave the page's rows for others
    that suit the room."""

    width: int = 980
    height: int | None = None
    cell_px: float = 34.0
    font_size: int = 12
    rearrange: bool = False


def figure_box(screen: Screen | None, presenter: bool, caption_px: int = 0) -> FigureBox:
    """The figure's room on this screen, under a caption box `caption_px` tall.

    Presenter mode: the column's width and the height left under the player, large cells and fonts. A laptop: the
    column's width and the height left. A phone: the width only (the page scrolls down through stacked panels).
    Unknown screen (the first run of a first visit): the old fixed budget.
    """
    if screen is None:
        return FigureBox(980, None, 52.0 if presenter else 34.0, 18 if presenter else 12)
    width = max(280, screen.cw - 2)
    left = screen.room(caption_px)
    room = (left if left is not None else int(screen.vh * 0.7)) - ELEMENT_GAP_PX
    if presenter:
        return FigureBox(width, max(240, room), 180.0, 18 if screen.vw >= 1600 else 15, True)
    if screen.phone:
        return FigureBox(width, None, 56.0, 12, True)
    return FigureBox(width, max(320, room), 72.0, 13, True)


SIDE_MIN_VW = 1000  # a narrower screen keeps the player over the figure
SIDE_BAR_ROWS = 3  # the player's bar wraps to this many rows at most in a side column
SIDE_BETTER_BY = 1.05  # the player goes beside the figure only if the cells then cover this much more
COLUMN_GAP_PX = 16  # st.columns(gap="small")


@dataclass(frozen=True)
class Placement:
    """Where the player goes and the figure's room with it there: over the figure (`side` 0), or in a column `side`
    pixels wide beside it, the figure then as tall as the screen from the page's top. `title`: the page's title moves
    out of the way, into the player's bar over the figure or to the top of its column beside it. `caption_px`: the
    caption box's height, at the player's width."""

    box: FigureBox
    caption_px: int = 0
    side: int = 0
    title: bool = False


SIDE_MIN_PX = 300  # the player's buttons in three rows, at presenter mode's font (the widest row: 284 px)
BAR_CONTROLS_PX = 830  # presenter mode: the bar's buttons, speed, shortest scrubber and step count in one line
HEADING_SHARE = 0.38  # the title in the bar takes at most this part of its width (the scrubber keeps the rest)
HEADING_CHAR = 0.55  # a title character's width in the bar, in caption characters: bold, smaller, in two lines


def heading_fits(screen: Screen, heading: str) -> bool:
    """Whether the page's title fits the player's bar over the figure in two lines at most, beside the bar's
    controls in one line."""
    room = min(HEADING_SHARE * screen.cw, screen.cw - BAR_CONTROLS_PX)
    return bool(heading) and screen.char is not None and len(heading) * screen.char * HEADING_CHAR <= room


def side_widths(screen: Screen) -> list[int]:
    """The widths tried for the player's column beside a figure: the narrowest its buttons allow (a wide figure
    keeps more of the width), and 30 % of the page column (a readable caption), at most 520 px."""
    return sorted({SIDE_MIN_PX, int(min(520, max(SIDE_MIN_PX, 0.3 * screen.cw)))})


def placements(screen: Screen | None, presenter: bool, captions: list[str], heading: str = "") -> list[Placement]:
    """The placements to choose from on this screen: the player over the figure first, in presenter mode with the
    page's `heading` (its title) in its bar where that fits; on a wide screen, also beside the figure, in columns of
    `side_widths` (a projector is wide and short, and many figures are as tall as they are wide)."""
    caption_px = screen.caption_px(captions) if screen else 0
    over = Placement(figure_box(screen, presenter, caption_px), caption_px)
    if not (presenter and screen and screen.vw >= SIDE_MIN_VW and screen.top is not None and screen.bar):
        return [over]
    title = screen.title or 0  # the page's title moves into the bar or the column: the figure starts that much higher
    if title and heading_fits(screen, heading):
        over = Placement(figure_box(dataclasses.replace(screen, top=screen.top - title), presenter, caption_px),
                         caption_px, 0, True)
    height = screen.vh - screen.top + title - FIGURE_AIR_PX  # the chart is its column's first element
    out = [over]
    for side in side_widths(screen):
        side_caption_px = screen.caption_px(captions, width=side)
        # The column's title, bar and caption end above the figure's bottom (the title in two lines at most).
        if SIDE_BAR_ROWS * screen.bar + side_caption_px + CAPTION_MARGIN_PX + 2 * title <= height:
            box = dataclasses.replace(over.box, width=screen.cw - side - COLUMN_GAP_PX - 2, height=height)
            out.append(Placement(box, side_caption_px, side, bool(title)))
    return out
