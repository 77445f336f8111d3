"""Reading a figure's spec back in tests: typed arrays, and a panel's channels from its one heatmap.

A panel's channels share one heatmap, side by side (convviz/figures/grid.py `side_by_side`). Tests split it
by what the hover shows, the channel in customdata[..., 2] of each cell, never by the figure builder's offsets: so a
block the hover attributes to the wrong channel, or a value drawn in a gap, fails the tests that compare the blocks
with the engine's arrays.
"""
import base64
import re

import numpy as np

DTYPES = {"f8": np.float64, "f4": np.float32, "i1": np.int8, "u1": np.uint8, "i2": np.int16, "u2": np.uint16,
          "i4": np.int32, "u4": np.uint32}


def decode(v) -> np.ndarray:
    """A Plotly 6 typed array ({"dtype", "bdata", "shape"}) or a plain (nested) list (null -> NaN) -> ndarray."""
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=DTYPES[v["dtype"]])
        if "shape" in v:
            a = a.reshape([int(s) for s in str(v["shape"]).split(",")])
        return a
    return np.asarray(v, dtype=float)


def panel_heatmaps(fig: dict, name: str) -> list[dict]:
    """The value heatmaps of panel `name` (its name is the hover's <extra> part)."""
    return [t for t in fig["data"] if t["type"] == "heatmap" and t.get("hovertemplate", "").endswith(f"<extra>{name}</extra>")]


def channel_blocks(heatmap: dict, z=None) -> list[np.ndarray]:
    """The grids of a heatmap's channels, in channel order, as the hover labels them (`z`: other values for the same
    cells, e.g. a frame's). A one-channel heatmap (customdata of two numbers a cell) is its own grid. Checks that every
    channel's cells form whole columns of one block and that the gaps between blocks are blank (NaN)."""
    z = decode(heatmap["z"] if z is None else z)
    cd = decode(heatmap["customdata"])
    if cd.shape[-1] == 2:
        return [z]
    ch = cd[..., 2]
    channels = sorted(int(k) for k in np.unique(ch) if k >= 0)
    assert channels == list(range(len(channels))), channels
    out = []
    for k in channels:
        cols = np.nonzero((ch == k).any(axis=0))[0]
        assert (ch[:, cols] == k).all() and np.array_equal(cols, np.arange(cols[0], cols[-1] + 1)), f"channel {k}"
        out.append(z[:, cols[0]:cols[-1] + 1])
    gaps = (ch < 0).all(axis=0)
    assert np.isnan(z[:, gaps].astype(float)).all(), "a value is drawn between channel blocks"
    assert ((ch >= 0) | gaps[None, :]).all()
    return out


def panel_grids(fig: dict, name: str) -> list[np.ndarray]:
    """The decoded grids of one panel, one per channel."""
    hms = panel_heatmaps(fig, name)
    assert len(hms) == 1, f"panel {name!r}: {len(hms)} heatmaps, expected one"
    return channel_blocks(hms[0])


def block_shifts(heatmap: dict) -> list[int]:
    """How far right of channel 0's block each channel's block is drawn (x units), from the hover's channel labels."""
    cd = decode(heatmap["customdata"])
    if cd.shape[-1] == 2:
        return [0]
    ch = cd[0, :, 2]
    firsts = [int(np.nonzero(ch == k)[0][0]) for k in range(int(ch.max()) + 1)]
    return [f - firsts[0] for f in firsts]


def value_heatmap_on(fig: dict, xaxis: str) -> dict:
    """The value heatmap of the subplot on `xaxis` (the one with a hover text)."""
    (hm,) = [t for t in fig["data"] if t["type"] == "heatmap" and t.get("xaxis", "x") == xaxis and t.get("hovertemplate")]
    return hm


RECT = re.compile(r"M([-\d.e+]+) ([-\d.e+]+)H([-\d.e+]+)V([-\d.e+]+)H([-\d.e+]+)Z")


def outline_shapes(fig: dict, role: str | None = None, xaxis: str | None = None) -> list[int]:
    """Indices into layout.shapes of the outlines (of `role`, over the subplot of `xaxis`)."""
    return [k for k, sh in enumerate(fig["layout"].get("shapes") or [])
            if sh.get("type") == "path" and (role is None or sh.get("name") == role)
            and (xaxis is None or sh.get("xref") == xaxis)]


def shape_in_frame(fig: dict, frame: dict | None, k: int) -> dict:
    """Outline shape k as the frame shows it: plotly.js merges the frame's k-th shape into the layout's (None: as the
    figure is first drawn)."""
    base = fig["layout"]["shapes"][k]
    return base if frame is None else {**base, **frame["layout"]["shapes"][k]}


def outlined_points(shape: dict) -> set[tuple[int, int]]:
    """The (row, x) cells an outline shape marks, x in the subplot's coordinates: every cell whose centre is inside one
    of its closed rectangles (a square round one cell, or a rectangle round a block or a run of cells)."""
    if not shape.get("visible", True):
        return set()
    path = shape["path"]
    rects = RECT.findall(path)
    assert "".join(f"M{a} {b}H{c}V{d}H{e}Z" for a, b, c, d, e in rects) == path, path  # nothing but rectangles
    out = set()
    for a, b, c, d, e in rects:
        x0, y0, x1, y1 = float(a), float(b), float(c), float(d)
        assert e == a and x0 < x1 and y0 < y1, (a, b, c, d, e)  # closed, and not empty
        out |= {(r, col) for r in range(int(np.floor(y0)), int(np.ceil(y1)) + 1) if y0 < r < y1
                for col in range(int(np.floor(x0)), int(np.ceil(x1)) + 1) if x0 < col < x1}
    return out


def outlined_by_channel(shape: dict, shifts: list[int]) -> set[tuple[int, int, int]]:
    """The (channel, row, column) cells an outline shape marks, each x mapped back into its channel's block."""
    out = set()
    for r, x in outlined_points(shape):
        k = max((i for i, s in enumerate(shifts) if s <= x), default=0)
        out.add((k, r, x - shifts[k]))
    return out


def _plot_width(lay: dict) -> float:
    return lay["width"] - lay["margin"]["l"] - lay["margin"]["r"]


def px_per_cell(fig: dict) -> dict[str, tuple[float, float]]:
    """Every subplot's (x, y) pixels per cell as its domain and range give them, before plotly.js's scaleanchor
    constraint evens them out by shrinking the axis with more pixels per cell (cells are square); keyed by the x axis
    as traces name it ("x", "x2", ...)."""
    lay = fig["layout"]
    plot_h = lay["height"] - lay["margin"]["t"] - lay["margin"]["b"]
    out = {}
    for k, xa in lay.items():
        if k.startswith("xaxis"):
            ya = lay["yaxis" + k[5:]]
            x = (xa["domain"][1] - xa["domain"][0]) * _plot_width(lay) / (xa["range"][1] - xa["range"][0])
            y = (ya["domain"][1] - ya["domain"][0]) * plot_h / abs(ya["range"][1] - ya["range"][0])
            out["x" + k[5:]] = (x, y)
    return out


def blank_bands(fig: dict) -> list[tuple[str, float, float]]:
    """Subplots whose rows are sized for taller cells than their width allows: plotly.js shrinks such a y axis to the
    top of its band and leaves blank space under it. (axis, x px, y px) of each."""
    return [(k, x, y) for k, (x, y) in px_per_cell(fig).items() if y > x * 1.001]


def title_overlaps(fig: dict) -> list[tuple[str, str]]:
    """Pairs of subplot titles on one line of a figure row (channel tags are tick labels, not titles) where a
    title's longest line, at its width in Arial Bold (`grid.text_px`, checked against chromium's drawing in the
    browser tests), runs past the start of the next title. Titles are left-aligned over their block at a data x of
    their axis; a block is drawn at the smaller of its axes' scales."""
    import re

    from convviz.figures.grid import text_px

    lay = fig["layout"]
    scale = {k: min(xy) for k, xy in px_per_cell(fig).items()}
    rows: dict[float, list[tuple[float, float, str]]] = {}
    for ann in lay.get("annotations", []):
        if ann.get("yref") != "paper" or not str(ann.get("xref", "")).startswith("x"):
            continue
        ax = lay["xaxis" + ann["xref"][1:]]
        left = ax["domain"][0] * _plot_width(lay) + (ann["x"] - ax["range"][0]) * scale[ann["xref"]]
        width = max(text_px(re.sub("<[^>]+>", "", t), ann["font"]["size"]) for t in ann["text"].split("<br>"))
        rows.setdefault((round(ann["y"], 6), ann.get("yshift", 0)), []).append((left, width, ann["text"]))
    out = []
    for titles in rows.values():
        titles.sort()
        out += [(a[2], b[2]) for a, b in zip(titles, titles[1:]) if a[0] + a[1] > b[0] + 1]
    return out


def crowded_numbers(fig: dict, digit_em: float = 0.56) -> list[tuple[str, int, int, float]]:
    """Heatmaps whose printed numbers are wider than their cells: (trace name, font size, characters of the longest
    label in the figure or its frames, cell px). A digit is `digit_em` of the font size wide (Arial); a label may take
    90 % of its cell. Labels are the heatmap's text array or its z values at the texttemplate's 4 significant digits."""
    cell = {k: min(xy) for k, xy in px_per_cell(fig).items()}
    frames_z: dict[int, list] = {}
    for frame in fig.get("frames", []):
        for i, d in zip(frame.get("traces", []), frame.get("data", [])):
            if "z" in d:
                frames_z.setdefault(i, []).append(d["z"])
    out = []
    for i, t in enumerate(fig["data"]):
        if t["type"] != "heatmap" or "textfont" not in t:
            continue
        if "text" in t:
            labels = [str(v) for row in t["text"] for v in row if v is not None]
        else:
            grids = [decode(t["z"])] + [decode(z) for z in frames_z.get(i, [])]
            labels = [f"{v:.4g}" for g in grids for v in np.unique(g[np.isfinite(g)])]
        chars = max((len(s) for s in labels), default=0)
        size = t["textfont"]["size"]
        px = cell[t.get("xaxis", "x")]
        if size * digit_em * chars > 0.9 * px + 0.5:
            out.append((t.get("name", ""), size, chars, round(px, 1)))
    return out


def panel_grids_at(fig: dict, name: str, step: int) -> list[np.ndarray]:
    """The grids of panel `name` as the figure draws them at trace step `step` (its frame's values where the frame
    changes the panel's heatmap, the figure's own otherwise)."""
    (frame,) = [f for f in fig["frames"] if f["name"] == str(step)]
    (hm,) = panel_heatmaps(fig, name)
    index = fig["data"].index(hm)
    z = next((d["z"] for i, d in zip(frame["traces"], frame["data"]) if i == index), None)
    return channel_blocks(hm, z)
