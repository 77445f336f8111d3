"""Exports of a trace figure: offline HTML with every frame, a PNG of one step, an animated GIF.

PNG and GIF need kaleido and a Chromium (Debian's /usr/bin/chromium here); those tests are skipped, visibly,
where there is none. Expected sizes and frame counts come from the figure's own layout and frame list.
"""
from __future__ import annotations

import io
import json
import re

import numpy as np
import pytest
from PIL import Image

from convviz.figures import trace_figure
from convviz.figures.export import (
    GIF_MIN_FRAMES,
    IMAGE_BOTTOM_PX,
    animation_gif,
    figure_html,
    frame_png,
    gif_frame_budget,
    image_export_problem,
    still_figure,
)
from convviz.stages import STAGES
from convviz.ui.settings import Settings

needs_browser = pytest.mark.skipif(image_export_problem() is not None, reason=str(image_export_problem()))


def figure(stage: str = "forward", rows=None, **settings):
    from convviz.ui.context import build_arrays

    return trace_figure(STAGES[stage].trace_for(Settings(**settings), build_arrays), rows=rows)


def html_frames(html: str) -> list[dict]:
    """The frame list the page passes to Plotly.addFrames, decoded."""
    m = re.search(r"Plotly\.addFrames\(\s*['\"][^'\"]+['\"],\s*", html)
    assert m, "no Plotly.addFrames call"
    frames, _ = json.JSONDecoder().raw_decode(html, m.end())
    return frames


def test_html_is_offline_and_holds_every_frame_and_the_controls():
    fig = figure(h=7, w=7, sh=2, pad="same")
    html = figure_html(fig, "convviz: <forward>").decode()
    assert not re.search(r"<script[^>]*\bsrc\s*=", html), "a script is loaded from elsewhere"
    assert not re.search(r"<link[^>]*href\s*=\s*['\"]https?:", html), "a stylesheet or font is loaded from elsewhere"
    assert "mathjax" not in html.lower().split("<body>")[0]
    assert len(html) > 3_000_000 and "plotly.js v" in html.lower()  # plotly.js itself is inline (it is ~4.7 MB)
    assert "<title>convviz: &lt;forward&gt;</title>" in html  # the title is escaped, never HTML
    frames = html_frames(html)
    expected = fig.to_dict()["frames"]
    assert [f["name"] for f in frames] == [f["name"] for f in expected]
    assert len(frames) == len(fig.layout.meta["frame_steps"]) > 1
    assert '"updatemenus"' in html and '"sliders"' in html  # Play and the step slider still work


def test_still_figure_applies_a_frames_values_and_title():
    fig = figure("transposed", h=5, w=5)
    d = fig.to_dict()
    frame = d["frames"][-1]
    still = still_figure(fig, int(frame["name"]))
    for idx, update in zip(frame["traces"], frame["data"]):
        for k, v in update.items():
            assert still["data"][idx][k] is v  # the frame's own (pre-encoded) value, not the base figure's
    assert still["layout"]["title"]["text"] == frame["layout"]["title"]["text"]
    # the frame's outlines: each of its shapes merged into the layout's shape of the same index, as plotly.js does
    base = d["layout"]["shapes"]
    assert len(frame["layout"]["shapes"]) == len(base) == len(still["layout"]["shapes"]) > 0
    for k, update in enumerate(frame["layout"]["shapes"]):
        assert still["layout"]["shapes"][k] == {**base[k], **update}
    assert any(s["path"] != b["path"] for s, b in zip(still["layout"]["shapes"], base))  # the last step outlines others
    assert "updatemenus" not in still["layout"] and "sliders" not in still["layout"]
    with pytest.raises(ValueError, match="step"):
        still_figure(fig, 10_000)


def test_missing_browser_is_a_sentence_not_a_traceback(monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    problem = image_export_problem()
    assert problem and "BROWSER_PATH" in problem and "HTML export works" in problem


@needs_browser
def test_png_has_the_figures_size_and_shows_the_chosen_step():
    fig = figure(h=6, w=6)
    steps = fig.layout.meta["frame_steps"]
    first, last = frame_png(fig, steps[0]), frame_png(fig, steps[-1])
    for png in (first, last):
        with Image.open(io.BytesIO(png)) as im:
            assert im.format == "PNG"
            expected_h = fig.layout.height - (fig.layout.margin.b - IMAGE_BOTTOM_PX)
            assert im.size == (fig.layout.width, expected_h)
    assert first != last  # a different step draws different outlines and title
    with Image.open(io.BytesIO(frame_png(fig, steps[0], scale=0.5))) as im:
        # half of an odd number of pixels: the browser may round either way
        assert all(abs(got - want * 0.5) <= 0.5 for got, want in zip(im.size, (fig.layout.width, expected_h)))


@needs_browser
def test_gif_has_the_capped_frame_count_size_timing_and_reports_progress():
    fig = figure(h=8, w=8)
    frames = len(fig.to_dict()["frames"])
    assert frames > 10
    seen: list[float] = []
    gif = animation_gif(fig, progress=seen.append, max_frames=10, scale=0.5, ms_per_frame=300, seconds=None)
    with Image.open(io.BytesIO(gif)) as im:
        assert im.format == "GIF" and im.n_frames == 10 and im.is_animated
        h = fig.layout.height - (fig.layout.margin.b - IMAGE_BOTTOM_PX)
        assert all(abs(got - want * 0.5) <= 0.5 for got, want in zip(im.size, (fig.layout.width, h)))
        assert im.info["duration"] == 300 and im.info.get("loop") == 0
        firsts = []
        for k in (0, im.n_frames - 1):
            im.seek(k)
            firsts.append(np.asarray(im.convert("RGB")))
    assert not np.array_equal(*firsts)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) == 10


@needs_browser
def test_gif_of_a_short_animation_keeps_every_frame():
    fig = figure("shapes", h=4, w=4)
    frames = len(fig.to_dict().get("frames") or [])
    gif = animation_gif(fig, max_frames=50, scale=0.4, seconds=None)
    with Image.open(io.BytesIO(gif)) as im:
        assert im.n_frames == max(frames, 1)


def test_gif_frame_budget_fits_the_time_and_keeps_a_minimum():
    # One frame alone took 0.5 s: 7.5 s are left for 15 more (the tabs' parallel speed-up is not counted on).
    assert gif_frame_budget(0.5, 8.0, 100) == 16
    assert gif_frame_budget(0.01, 8.0, 24) == 24  # fast frames: the cap decides
    assert gif_frame_budget(5.0, 8.0, 24) == GIF_MIN_FRAMES  # very slow frames: still a minimal animation


@needs_browser
def test_gif_of_the_largest_settings_finishes_in_seconds():
    import time

    fig = figure("transposed", rows=[["dout", "dilated"], ["padded", "wflip"], ["dxpad", "dx"]], h=32, w=32, cin=4, cout=4,
                 n=4, kh=7, kw=7, pad="same", data="random")
    frame_png(fig)  # the browser is running, as after the first export in a server process
    t = time.perf_counter()
    gif = animation_gif(fig, seconds=6.0)
    took = time.perf_counter() - t
    with Image.open(io.BytesIO(gif)) as im:
        assert GIF_MIN_FRAMES <= im.n_frames <= 24
    assert took < 20, f"{took:.1f} s"  # budget 6 s; generous for a shared, loaded test machine
