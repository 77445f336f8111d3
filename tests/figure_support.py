"""Reading a figure's spec back in tests: typed arrays, and a panel's channels from its one heatmap.

A panel's channels share one heatmap, side by side (convviz/figures/trace_figure.py `_side_by_side`). Tests split it
by what the hover shows, the channel in customdata[..., 2] of each cell, never by the figure builder's offsets: so a
block the hover attributes to the wrong channel, or a value drawn in a gap, fails the tests that compare the blocks
with the engine's arrays.
"""
import base64

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


def outlined_points(data: dict) -> set[tuple[int, int]]:
    """The (row, x) cells an outline trace marks, x in the subplot's coordinates: one per marker, or every cell inside
    each rectangle of a line (rectangles are separated by NaN)."""
    x, y = decode(data["x"]).astype(float), decode(data["y"]).astype(float)
    if data["mode"] != "lines":
        return set(zip(y.astype(int).tolist(), x.astype(int).tolist()))
    out = set()
    breaks = np.nonzero(np.isnan(x))[0]
    for xs, ys in zip(np.split(x, breaks), np.split(y, breaks)):
        xs, ys = xs[~np.isnan(xs)], ys[~np.isnan(ys)]
        assert len(xs) == 5 and xs[0] == xs[-1] and ys[0] == ys[-1], (xs, ys)  # a closed rectangle
        out |= {(r, c) for r in range(int(np.floor(ys.min())), int(np.ceil(ys.max())) + 1) if ys.min() < r < ys.max()
                for c in range(int(np.floor(xs.min())), int(np.ceil(xs.max())) + 1) if xs.min() < c < xs.max()}
    return out


def outlined_by_channel(data: dict, shifts: list[int]) -> set[tuple[int, int, int]]:
    """The (channel, row, column) cells an outline trace marks, each x mapped back into its channel's block."""
    out = set()
    for r, x in outlined_points(data):
        k = max((i for i, s in enumerate(shifts) if s <= x), default=0)
        out.add((k, r, x - shifts[k]))
    return out
