"""Export a trace figure: a standalone offline HTML file, one frame as PNG, the animation as a GIF.

Plotly/kaleido only (no Streamlit). HTML needs no browser: plotly.js is inlined. PNG and GIF are rendered by
kaleido, which drives a headless Chromium (Debian's /usr/bin/chromium here; `BROWSER_PATH` overrides it).

Why a renderer of our own instead of `plotly.io.to_image`: a plain call starts a browser each time (~3 s);
`kaleido.start_sync_server` keeps one but serves callers one at a time and is not safe across threads (two
Streamlit sessions could read each other's image). Here one Kaleido with a few tabs lives on a private event
loop thread; every caller submits coroutines to it, so frames of one GIF render in parallel tabs and
concurrent sessions get their own results. MathJax is switched off: kaleido would fetch it from a CDN.
"""
from __future__ import annotations

import asyncio
import contextlib
import copy
import io
import os
import queue
import shutil
import threading
import time
from collections.abc import Callable
from html import escape

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from ..traces.base import pick_steps

GIF_MAX_FRAMES = 24  # frames rendered for a GIF at most (evenly spaced): ~0.15-0.3 s each on 2 cores
GIF_SCALE = 0.8  # GIF pixels per figure pixel: smaller files, and frames render a little faster
GIF_MS_PER_FRAME = 700  # the figure's normal Play speed
GIF_SECONDS = 8.0  # render budget of a GIF (after the browser has started): frames are cut to fit it
GIF_MIN_FRAMES = 6  # ... but never fewer than this (a frame takes up to ~1 s alone at the app's caps)
RENDER_TABS = 2  # parallel Chromium tabs (the machine this was measured on has 2 cores)
RENDER_TIMEOUT = 60.0  # seconds for one image before we give up
GAPLESS_CELLS = 4096  # heatmaps with more cells are drawn without gaps in images (see _fast_heatmap)
IMAGE_BOTTOM_PX = 24  # bottom margin of a still image: the play buttons and slider are left out
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


class ExportUnavailable(RuntimeError):
    """Image export cannot run here (no Chromium, or it failed to start); the message says what to do."""


def browser_path() -> str | None:
    """The Chromium kaleido should drive: $BROWSER_PATH if it exists, else the first one on PATH."""
    env = os.environ.get("BROWSER_PATH")
    if env:
        return env if os.path.isfile(env) and os.access(env, os.X_OK) else None
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def image_export_problem() -> str | None:
    """None when PNG/GIF export can run; otherwise a plain sentence saying why not and how to fix it."""
    try:
        import kaleido  # noqa: F401
    except ImportError:
        return "Image export needs the Python package kaleido (pip install 'kaleido>=1.0')."
    if browser_path() is None:
        where = os.environ.get("BROWSER_PATH")
        found = f"BROWSER_PATH={where!r} is not an executable file" if where else "no Chromium or Chrome was found on PATH"
        return (f"Image export needs a Chromium browser, and {found}. Install one (Debian: apt install chromium) "
                "or set BROWSER_PATH to its executable. The HTML export works without it.")
    return None


# ---------------------------------------------------------------------------------------------- figure dicts


def figure_dict(fig: go.Figure) -> dict:
    """The figure as a plain dict, frames included (AnimatedFigure keeps its frames pre-encoded)."""
    return fig.to_dict()


def frame_count(fig: go.Figure) -> int:
    """Animation frames in the figure (0 for a still figure)."""
    return len(figure_dict(fig).get("frames") or [])


def _still(base: dict, frame: dict | None) -> dict:
    """One frame as a still figure: the frame's data, title and outlines applied to the base, controls removed.

    Args:
        base: the figure dict without frames (not modified).
        frame: {"data": [...], "traces": [indices], "layout": {...}} or None for the base as it is.
    """
    out = {"data": list(base["data"]), "layout": copy.deepcopy(base["layout"])}
    if frame is not None:
        for idx, update in zip(frame.get("traces") or range(len(frame["data"])), frame["data"]):
            merged = dict(out["data"][idx])
            merged.update(update)
            out["data"][idx] = merged
        flayout = frame.get("layout") or {}
        title = flayout.get("title", {}).get("text")
        if title is not None:
            out["layout"].setdefault("title", {})["text"] = title
        # The outlines: as plotly.js applies a frame, each of its shapes is merged into the layout's shape of the same
        # index (the frame sends only the path and whether it shows).
        shapes = out["layout"].get("shapes") or []
        for k, update in enumerate(flayout.get("shapes") or []):
            if k < len(shapes):
                shapes[k] = {**shapes[k], **update}
    out["data"] = [_fast_heatmap(t) for t in out["data"]]
    layout = out["layout"]
    layout.pop("updatemenus", None)
    layout.pop("sliders", None)
    margin = layout.setdefault("margin", {})
    cut = max(0, int(margin.get("b", IMAGE_BOTTOM_PX)) - IMAGE_BOTTOM_PX)
    margin["b"] = min(int(margin.get("b", IMAGE_BOTTOM_PX)), IMAGE_BOTTOM_PX)
    if layout.get("height"):
        layout["height"] = int(layout["height"]) - cut  # the subplot domains are fractions: shrink with the margin
    return out


def _cells(z) -> int:
    if isinstance(z, dict):  # a typed array {"dtype", "bdata", "shape": "R, K"}
        return int(np.prod([int(v) for v in str(z.get("shape", "0")).split(",")]))
    return int(np.size(z)) if z is not None else 0


def _fast_heatmap(trace: dict) -> dict:
    """Large heatmaps without cell gaps: with gaps Chromium draws every cell as its own rectangle (~1-3 s a
    frame at the app's caps); without, one image. Such cells are a few pixels wide, so the gaps hardly showed."""
    if trace.get("type") == "heatmap" and (trace.get("xgap") or trace.get("ygap")) and _cells(trace.get("z")) > GAPLESS_CELLS:
        return {**trace, "xgap": 0, "ygap": 0}
    return trace


def still_figure(fig: go.Figure, step: int | None = None) -> dict:
    """The figure as it looks at trace step `step` (the frame named str(step)); None: as first shown.

    Raises:
        ValueError: the figure has no frame for that step (it only keeps some steps; see layout.meta).
    """
    d = figure_dict(fig)
    frames = d.pop("frames", None) or []
    if step is None:
        return _still(d, None)
    by_name = {f["name"]: f for f in frames}
    if str(step) not in by_name:
        if not frames:
            return _still(d, None)
        names = ", ".join(f["name"] for f in frames[:8])
        raise ValueError(f"step: the figure has no frame for step {step}; its frames are named {names}, ...")
    return _still(d, by_name[str(step)])


def figure_html(fig: go.Figure, title: str = "convviz") -> bytes:
    """A standalone HTML page of the figure that works offline: plotly.js inline, no CDN, no MathJax.

    The frames and the Play/slider controls are kept, so the animation plays in any browser.
    """
    html = pio.to_html(figure_dict(fig), include_plotlyjs=True, include_mathjax=False, full_html=True, auto_play=False,
                       validate=False, config={"displaylogo": False, "scrollZoom": False, "responsive": False})
    html = html.replace("<head>", f"<head>\n    <title>{escape(title)}</title>", 1)
    return html.encode("utf-8")


# ---------------------------------------------------------------------------------------------- rendering


class _Renderer:
    """One kaleido (a headless Chromium with RENDER_TABS tabs) on a private event loop thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._kaleido = None

    def _start(self) -> None:
        import kaleido

        problem = image_export_problem()
        if problem:
            raise ExportUnavailable(problem)
        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, name="convviz-kaleido", daemon=True).start()

        async def open_kaleido():
            k = kaleido.Kaleido(n=RENDER_TABS, timeout=RENDER_TIMEOUT, mathjax=False, path=browser_path())
            await k.open()
            return k

        try:
            self._kaleido = asyncio.run_coroutine_threadsafe(open_kaleido(), loop).result(timeout=RENDER_TIMEOUT)
        except Exception as err:  # the browser would not start: say so plainly
            loop.call_soon_threadsafe(loop.stop)
            raise ExportUnavailable(f"The headless browser for image export did not start ({type(err).__name__}: {err}).") from err
        self._loop = loop

    def start(self) -> None:
        """Start the browser now if it is not running (raises ExportUnavailable if it cannot start)."""
        self._ensure()

    def _ensure(self):
        with self._lock:
            if self._kaleido is None:
                self._start()
            return self._loop, self._kaleido

    def reset(self) -> None:
        """Forget a broken browser; the next render starts a new one."""
        with self._lock:
            loop, k = self._loop, self._kaleido
            self._loop = self._kaleido = None
        if loop is not None and k is not None:
            with contextlib.suppress(Exception):  # already dead: nothing to close
                asyncio.run_coroutine_threadsafe(k.close(), loop).result(timeout=10)
            loop.call_soon_threadsafe(loop.stop)

    def render(self, figs: list[dict], scale: float, progress: Callable[[int], None] | None = None) -> list[bytes]:
        """PNG bytes of each figure dict, rendered in parallel tabs; progress(done) after each one.

        progress runs on the caller's thread (Streamlit elements can only be updated from the script's thread).
        """
        loop, k = self._ensure()
        finished: queue.Queue[int] = queue.Queue()

        async def one(i: int, d: dict) -> tuple[int, bytes]:
            return i, await k.calc_fig(d, opts={"format": "png", "scale": scale})

        async def run_all() -> list[bytes]:
            out: list[bytes] = [b""] * len(figs)
            for done, fut in enumerate(asyncio.as_completed([one(i, d) for i, d in enumerate(figs)]), start=1):
                i, png = await fut
                out[i] = png
                finished.put(done)
            return out

        future = asyncio.run_coroutine_threadsafe(run_all(), loop)
        try:
            last = time.monotonic()
            while True:
                try:
                    done = finished.get(timeout=0.1)
                except queue.Empty:
                    if future.done():
                        future.result()  # raises the render's error
                    if time.monotonic() - last > RENDER_TIMEOUT:
                        raise TimeoutError(f"no image finished within {RENDER_TIMEOUT:.0f} s") from None
                    continue
                last = time.monotonic()
                if progress is not None:
                    progress(done)
                if done == len(figs):
                    break
            return future.result(timeout=RENDER_TIMEOUT)
        except Exception as err:
            future.cancel()
            self.reset()  # a crashed tab or browser: start afresh next time
            raise ExportUnavailable(f"Rendering the image failed ({type(err).__name__}: {err}). Try again.") from err


_RENDERER = _Renderer()


def frame_png(fig: go.Figure, step: int | None = None, scale: float = 1.0) -> bytes:
    """PNG of the figure at trace step `step` (None: the step shown first), layout.width*scale pixels wide.

    Raises ExportUnavailable (with a plain message) when no browser can render it.
    """
    return _RENDERER.render([still_figure(fig, step)], scale)[0]


def gif_frames(fig: go.Figure, max_frames: int = GIF_MAX_FRAMES) -> list[dict]:
    """The still figures a GIF shows: at most `max_frames` frames, evenly spaced, first and last kept."""
    d = figure_dict(fig)
    frames = d.pop("frames", None) or []
    if not frames:
        return [_still(d, None)]
    keep = pick_steps(len(frames), max(2, max_frames))
    return [_still(d, frames[i]) for i in keep]


def gif_frame_budget(first_seconds: float, seconds: float, max_frames: int) -> int:
    """How many frames fit in `seconds`, given that one frame took `first_seconds` alone.

    Counted without the parallel tabs' speed-up: on a busy 2-core server the tabs share the cores, and going
    over the budget is worse than a GIF with fewer frames.
    """
    per_frame = max(first_seconds, 1e-3)
    return int(min(max_frames, max(GIF_MIN_FRAMES, 1 + (seconds - first_seconds) // per_frame)))


def animation_gif(
    fig: go.Figure,
    progress: Callable[[float], None] | None = None,
    max_frames: int = GIF_MAX_FRAMES,
    scale: float = GIF_SCALE,
    ms_per_frame: int = GIF_MS_PER_FRAME,
    seconds: float | None = GIF_SECONDS,
) -> bytes:
    """An animated GIF of the figure's frames (at most `max_frames`, evenly spaced), looping forever.

    Large figures take Chromium longer per frame (up to ~1 s at the app's caps), so the first frame is rendered
    alone and timed, and the number of frames is cut to what fits in `seconds` (never below GIF_MIN_FRAMES).
    `seconds=None` renders `max_frames` regardless.

    Args:
        progress: called on the caller's thread with the fraction of frames rendered so far (0..1).
        scale: GIF pixels per figure pixel.
    Returns:
        GIF bytes; every frame (width*scale, height*scale) pixels, `ms_per_frame` ms each.
    """
    from PIL import Image

    candidates = gif_frames(fig, max_frames)
    _RENDERER.start()  # the browser's start-up is not part of the per-frame cost
    t = time.perf_counter()
    first = _RENDERER.render(candidates[:1], scale)[0]
    took = time.perf_counter() - t
    if seconds is not None and len(candidates) > 1:
        count = gif_frame_budget(took, seconds, len(candidates))
        # Re-pick evenly among the candidates; index 0 (already rendered) and the last frame are always kept.
        candidates = [candidates[i] for i in pick_steps(len(candidates), count)]
    total = len(candidates)
    if progress is not None:
        progress(1 / total)
    rest = _RENDERER.render(candidates[1:], scale, (lambda done: progress((done + 1) / total)) if progress else None) \
        if total > 1 else []
    images = []
    for png in [first, *rest]:
        with Image.open(io.BytesIO(png)) as im:
            # One palette per frame: the figures use a few flat colours, so 64 are plenty and keep files small
            # (the fast octree quantizer takes ~5 ms a frame; median cut took ~80 ms at the largest sizes).
            images.append(im.convert("RGB").quantize(colors=64, method=Image.Quantize.FASTOCTREE))
    out = io.BytesIO()
    images[0].save(out, format="GIF", save_all=True, append_images=images[1:], duration=ms_per_frame, loop=0,
                   disposal=1, optimize=False)
    return out.getvalue()


def gif_frame_count(gif: bytes) -> int:
    """Frames in a GIF (Pillow reads it)."""
    from PIL import Image

    with Image.open(io.BytesIO(gif)) as im:
        return int(getattr(im, "n_frames", 1))
