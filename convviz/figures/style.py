"""What a trace figure's colours mean, and the caps that keep every figure fast to send and animate.

One place for both, so a colour means the same on every page (the colour scale belongs to a panel's kind, the
highlight colour to its role) and every module of the figure reads the same limits.
"""
from __future__ import annotations

# Colour scales by panel kind (light, so black cell text stays readable on a projector).
KIND_SCALES = {
    "value": [[0.0, "#f7fbff"], [1.0, "#7fb2dc"]],
    "grad": [[0.0, "#3f7fbf"], [0.5, "#f7f7f7"], [1.0, "#d0543f"]],  # diverging, centred at zero
    "index": [[0.0, "#fffde7"], [1.0, "#c5e1a5"]],
    "count": [[0.0, "#f6f4fa"], [1.0, "#b39ddb"]],  # a zero count tinted: a panel of zeros still shows its cells
    "error": [[0.0, "#e8f5e9"], [0.625, "#fff59d"], [1.0, "#e57373"]],  # log10 of the relative error
}
# Highlight colours by role. Regions (padding, uncovered) are translucent fills; the roles of a step
# (read, write, focus, wrong) are cell outlines, so the value colours underneath stay true.
ROLE_COLOURS = {
    "padding": "rgba(120,120,120,0.28)",
    "uncovered": "rgba(40,40,40,0.55)",
    "focus": "#f2b705",
    "read": "#ff7f0e",
    "write": "#8e24aa",
    "wrong": "#e00000",
}
FILL_ROLES = ("padding", "uncovered")
OUTLINE_ROLES = ("read", "focus", "write", "wrong")  # drawing order: later ones on top
ROLE_MEANING = {
    "read": "cells read in this step",
    "write": "cells written in this step",
    "focus": "what this step is about",
    "uncovered": "never reached by any window",
    "padding": "padding",
    "wrong": "wrong result",
}
ERROR_FLOOR = -16  # log10 of the smallest relative error drawn

# Caps that keep every figure small enough to send and draw fast at the app's largest settings: a panel with more
# cells (or a longer side) is shown in part, a window round what the first step is about; the page says so.
MAX_PANEL_CELLS = 12_800
MAX_PANEL_SIDE = 256
GAP_MIN_PX = 8.0  # below this cell size the 1-pixel gaps between cells would hide the colours
GAP_MAX_CELLS = 2_000  # no gaps in a figure with a larger grid shown: they cost plotly.js time on every frame
MAX_FRAMES = 100  # animation frames (and play-slider steps) per figure at most: keeps Fast above 10 fps
MAX_TEXT_CELLS = 1_000  # numbers in cells only up to this many cells a figure: each is an SVG text redrawn every frame
READABLE_PX = 15  # cells at least this large print their numbers unless the caller says otherwise
# Arial's widths (Liberation Sans on Linux has the same), which the sizes of numbers and titles assume; plotly.js's
# default, Open Sans, is rarely installed, and its fallback Verdana is some 15 % wider: numbers would fill their cells.
FIGURE_FONT = "Arial, 'Liberation Sans', Helvetica, sans-serif"
# Arial Bold's advance widths (Liberation Sans Bold's too), in thousandths of a font size: what titles are wrapped by.
BOLD_WIDTHS = {
    **dict.fromkeys(" ,./\\ijl·", 278), "'": 238, "|": 280, **dict.fromkeys("ftI()[]-:;!", 333), **dict.fromkeys("r*{}", 389),
    "°": 400, '"': 474, "z": 500, **dict.fromkeys("acekvsxyJ0123456789_#$", 556), **dict.fromkeys("+=<>×^~", 584),
    **dict.fromkeys("bdghnopquFLTZ?", 611), **dict.fromkeys("EPSVXY", 667), **dict.fromkeys("ABCDHKNRU&", 722),
    **dict.fromkeys("GOQw", 778), "M": 833, **dict.fromkeys("m%", 889), "W": 944, "@": 975,
}
OTHER_WIDTH = 780  # a character not in the table (Greek, arrows): as wide as a wide capital
TEXT_SLACK = 1.06  # room over the metrics: a browser without Arial or Liberation Sans falls back to a wider sans-serif
MAX_TEXT_PX = 30  # the largest font of the numbers in cells (cells of 80 px and more on a projector)
PAGE_MARGIN_PX = 12  # a page figure's margins above and below its grid (its titles are inside the grid's rows)
TICK_PX = 28  # at least this many pixels between tick labels: every label costs time on each animation frame
# ... and twice that where cells are this small: there a label names a region, not a cell, and fewer labels make
# each frame faster
SMALL_CELL_PX, SMALL_CELL_TICK_PX = 12.0, 56
