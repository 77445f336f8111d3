"""Sending a figure's arrays to the browser: compact typed arrays, or plain JSON lists where those stay small.

A figure's traces and frames are built as raw dicts (see `AnimatedFigure`) with every array as a Plotly 6 typed array
{"dtype", "bdata", "shape"} in the smallest type that holds its numbers exactly. Small figures are then sent as plain
lists instead, with a digest of the data as layout.datarevision, so that Streamlit's second render of a chart does
not make plotly.js draw it again (see `data_revision`).
"""
from __future__ import annotations

import base64
import hashlib
import json

import numpy as np
import plotly.graph_objects as go

from ..traces.base import Panel
from .style import ERROR_FLOOR


class AnimatedFigure(go.Figure):
    """A go.Figure whose traces and frames are kept as plain, pre-encoded dicts.

    Validating every heatmap (and hundreds of go.Frame objects) would cost most of a page's run, and `to_dict()` would
    deep-copy and re-encode every array on every rerun. The traces and frames are built from the trace's arrays as raw
    dicts (arrays as Plotly 6 typed arrays, see `enc`), so only the layout is a validated plotly object (`fig.layout`
    works as usual); `fig.data` stays empty: read the traces from `to_dict()["data"]` (what st.plotly_chart, to_json
    and the exports read). tests/figures checks the raw dicts against plotly's own validation.
    """

    def __init__(self, *args, raw_data: list | None = None, raw_frames: list | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._raw_data = list(raw_data or [])
        self._raw_frames = list(raw_frames or [])

    @property
    def raw_data(self) -> list:
        return self._raw_data

    @property
    def raw_frames(self) -> list:
        return self._raw_frames

    def to_dict(self) -> dict:
        out = super().to_dict()
        out["data"] = list(out.get("data") or []) + self._raw_data
        if self._raw_frames:
            out["frames"] = self._raw_frames
        meta = out.get("layout", {}).get("meta")
        if isinstance(meta, dict):  # sent as text, see `meta_of`; fig.layout.meta stays a dict on the server
            out["layout"]["meta"] = json.dumps(meta, separators=(",", ":"))
        return out

    def to_plotly_json(self) -> dict:
        return self.to_dict()

    def to_json(self, *args, **kwargs) -> str:
        import plotly.io as pio

        return pio.to_json(self.to_dict(), *args, validate=False, **kwargs)


def meta_of(spec: dict) -> dict:
    """layout.meta of a figure as sent to the browser (JSON text: a dict would make Plotly.react redraw, see
    `data_revision`)."""
    meta = spec.get("layout", {}).get("meta")
    return json.loads(meta) if isinstance(meta, str) else (meta or {})


# A figure sends its arrays as plain JSON lists (see data_revision) when their base64 is at most PLAIN_MAX_BYTES
# characters and the lists' JSON at most PLAIN_MAX_JSON; typed arrays otherwise. Lists take ~1.1x the bytes of float32
# grids (channels side by side, NaN between them) and up to ~2.5x those of small integers; the first bound only saves
# building lists that cannot fit.
PLAIN_MAX_BYTES = 800_000
PLAIN_MAX_JSON = 1_200_000

# numpy dtype -> plotly.js typed-array code (_plotly_utils.utils.plotlyjsShortTypes)
TYPED_ARRAY_CODES = {"int8": "i1", "uint8": "u1", "int16": "i2", "uint16": "u2", "int32": "i4", "uint32": "u4",
                     "float32": "f4", "float64": "f8"}
_INT_STEPS = ((np.int8, -128, 127), (np.int16, -(2**15), 2**15 - 1), (np.int32, -(2**31), 2**31 - 1))


def enc(a) -> dict | list:
    """A NumPy array as a Plotly typed array {"dtype", "bdata", "shape"}: the same bytes as plotly's own
    `to_typed_array_spec` (64-bit integers narrowed to the smallest type that holds them; booleans sent as u1),
    without its copy-to-read-only and generic checks."""
    v = np.asarray(a)
    if v.size == 0:
        return []
    if v.dtype == np.bool_:
        v = v.view(np.uint8)
    elif v.dtype.kind in "iu" and v.dtype.itemsize == 8:
        v = narrow_int(v)
    code = TYPED_ARRAY_CODES.get(str(v.dtype))
    if code is None:
        return v.tolist()
    out = {"dtype": code, "bdata": base64.b64encode(np.ascontiguousarray(v).data).decode("ascii")}
    if v.ndim > 1:
        out["shape"] = str(v.shape)[1:-1]
    return out


def narrow_int(v: np.ndarray) -> np.ndarray:
    """An integer array in the smallest integer type that holds its range (unsigned stays unsigned)."""
    lo, hi = int(v.min()), int(v.max())
    if lo >= 0 and v.dtype.kind == "u":
        for t, top in ((np.uint8, 255), (np.uint16, 2**16 - 1), (np.uint32, 2**32 - 1)):
            if hi <= top:
                return v.astype(t)
        return v
    for t, low, top in _INT_STEPS:
        if low <= lo and hi <= top:
            return v.astype(t)
    return v


def heatmap_z(panel: Panel, grid: np.ndarray) -> np.ndarray:
    """The values sent for a heatmap of `panel` (a grid of any shape), in the smallest type that holds every one of
    them exactly; an error panel sends log10 of its relative errors, floored at ERROR_FLOOR."""
    if panel.kind == "error":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.maximum(np.log10(np.abs(grid)), ERROR_FLOOR)
    return _exact_compact(grid)


def _exact_compact(grid: np.ndarray) -> np.ndarray:
    """`grid` as the narrowest integers or float32 that equal it exactly (signs of zero kept), else unchanged."""
    g = np.asarray(grid)
    if g.dtype.kind in "iub":
        return narrow_int(g.astype(np.int64)) if g.size else g
    if g.dtype != np.float64 or g.size == 0:
        return g
    finite = np.isfinite(g)
    if finite.all():
        lo, hi = g.min(), g.max()
        if lo >= -(2**31) and hi < 2**31:
            as_int = g.astype(np.int64)
            if np.array_equal(as_int, g) and not np.signbit(g[g == 0]).any():
                return narrow_int(as_int)
    with np.errstate(over="ignore"):
        f4 = g.astype(np.float32)  # NaN (the gaps between channel blocks) and infinities stay what they are
    if np.array_equal(f4[finite], g[finite]):
        return f4
    return g


def browser_arrays(data: list, frames: list, plain_arrays: bool | None) -> tuple[list, list]:
    """The traces and frames as sent: with plain JSON lists for their typed arrays when `plain_arrays` says so, or by
    default while they stay within PLAIN_MAX_BYTES and PLAIN_MAX_JSON (see `data_revision` for why); else as they are."""
    auto = plain_arrays is None
    if auto:
        plain_arrays = _typed_bytes(data) + _typed_bytes(frames) <= PLAIN_MAX_BYTES
    if plain_arrays:
        plain = _plain(data), _plain(frames)
        if not auto or len(json.dumps(plain, separators=(",", ":"))) <= PLAIN_MAX_JSON:
            return plain
    return data, frames


def _is_typed(v) -> bool:
    return isinstance(v, dict) and "bdata" in v and "dtype" in v


def _typed_bytes(v) -> int:
    """Characters of base64 in the typed arrays of a figure part."""
    if _is_typed(v):
        return len(v["bdata"])
    if isinstance(v, dict):
        return sum(_typed_bytes(x) for x in v.values())
    if isinstance(v, list):
        return sum(_typed_bytes(x) for x in v)
    return 0


def _plain(v):
    """A figure part with every typed array turned back into (nested) JSON lists."""
    if _is_typed(v):
        dtype = {code: name for name, code in TYPED_ARRAY_CODES.items()}[v["dtype"]]
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=dtype)
        if "shape" in v:
            a = a.reshape([int(k) for k in v["shape"].split(",") if k.strip()])
        return _plain_list(a)
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


def _plain_list(a: np.ndarray) -> list:
    """An array as (nested) JSON-ready lists. A float grid whose numbers are all whole (an integer grid with NaN gaps
    between channel blocks) is written with integers, "3" not "3.0", and NaN as None (JSON null: a blank cell)."""
    if a.dtype.kind != "f":
        return a.tolist()
    finite = np.isfinite(a)
    whole = finite.any() and bool((a[finite] == np.round(a[finite])).all()) and np.abs(a[finite]).max() < 2**53 \
        and not np.signbit(a[finite & (a == 0)]).any()
    if finite.all() and not whole:
        return a.tolist()
    out = a.astype(object)
    if whole:
        out[finite] = a[finite].astype(np.int64)
    out[np.isnan(a)] = None
    return out.tolist()


def data_revision(data: list, frames: list) -> str:
    """A digest of the figure's traces and frames, for layout.datarevision.

    Streamlit hands plotly.js each chart twice per script run (Plotly.newPlot when it mounts the chart, then
    Plotly.react when the run finishes), both times freshly parsed from the spec. Plotly.react redraws the whole
    figure (as long again as the first draw) unless every attribute compares equal. So the spec avoids what can never
    compare equal between two parses: plain-list arrays count as unchanged while layout.datarevision is (this digest
    changes exactly when the data does); typed arrays ({dtype, bdata}) always count as new, so small figures send
    plain lists (PLAIN_MAX_BYTES); layout.meta is sent as text and the default template (an object) is left out.
    """
    blob = json.dumps([data, frames], separators=(",", ":"), sort_keys=True, default=str).encode()
    return hashlib.blake2b(blob, digest_size=12).hexdigest()
