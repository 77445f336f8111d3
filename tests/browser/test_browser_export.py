"""The export row in a real browser: GIF with its progress bar, offline HTML, PNG and the code download.

Run: python -m pytest tests/browser/test_browser_export.py -q -p no:xdist
"""
from __future__ import annotations

import io
import re
import subprocess
import sys

import pytest
from browser_support import SCREENSHOTS, VIEWPORT
from PIL import Image
from playwright.sync_api import expect

from convviz.figures.export import GIF_MAX_FRAMES, GIF_MIN_FRAMES

pytestmark = pytest.mark.browser

EXPORT = "📤 Export this figure"


def open_export(app):
    """Open the first figure's export popover and return its panel."""
    app.page.get_by_role("button", name=EXPORT).first.click()
    panel = app.page.locator('[data-testid="stPopoverBody"]').last
    expect(panel.get_by_text("Interactive HTML (offline)")).to_be_visible()
    return panel


def test_gif_renders_with_progress_and_downloads_with_its_frames(app, tmp_path):
    app.open("forward?h=7&w=7&sh=2")
    panel = open_export(app)
    button = panel.get_by_role("button", name=re.compile("Render animated GIF"))
    wanted = int(re.search(r"(\d+) frames", button.inner_text()).group(1))
    button.click()
    expect(app.page.locator('[data-testid="stProgress"]').first).to_be_visible(timeout=30_000)
    ready = app.page.get_by_text(re.compile(r"GIF ready: \d+ frames"))
    expect(ready).to_be_visible(timeout=90_000)
    app.wait_for_app()
    shown = int(re.search(r"GIF ready: (\d+) frames", ready.inner_text()).group(1))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    app.page.screenshot(path=str(SCREENSHOTS / "export_gif_ready.png"))
    with app.page.expect_download() as info:
        app.page.get_by_role("button", name=re.compile("Download the GIF")).click()
    path = tmp_path / "view.gif"
    info.value.save_as(path)
    assert info.value.suggested_filename == "convviz_forward.gif"
    with Image.open(path) as im:
        assert im.format == "GIF" and im.n_frames == shown
        assert min(wanted, GIF_MIN_FRAMES) <= im.n_frames <= min(wanted, GIF_MAX_FRAMES)
    app.assert_healthy()


def test_html_download_plays_offline_in_chromium(app, browser, tmp_path):
    app.open("input_gradient?h=6&w=6&sh=2")
    panel = open_export(app)
    with app.page.expect_download(timeout=60_000) as info:
        panel.get_by_role("button", name=re.compile("Interactive HTML")).click()
    path = tmp_path / "view.html"
    info.value.save_as(path)
    html = path.read_text()
    assert not re.search(r"<script[^>]*\bsrc=", html)

    context = browser.new_context(viewport=VIEWPORT, offline=True)  # the network off: the file must need nothing else
    try:
        requests: list[str] = []
        context.on("request", lambda r: requests.append(r.url))
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
        assert page.locator(".js-plotly-plot .hm").count() > 0  # the heatmaps were drawn
        first = page.evaluate("() => document.querySelector('.gtitle').textContent")
        page.locator(".updatemenu-button", has_text="Fast").click()  # Play runs client-side, frame by frame
        page.wait_for_function("(t) => document.querySelector('.gtitle').textContent !== t", arg=first, timeout=10_000)
        page.screenshot(path=str(SCREENSHOTS / "export_html_offline.png"), full_page=True)
        assert not errors, errors
        assert all(u.startswith(("file:", "data:", "blob:")) for u in requests), requests
    finally:
        context.close()


def test_png_and_code_download(app, tmp_path):
    app.open("maxpool?h=8&w=8&kh=2&kw=2&sh=2&sw=2&data=random")
    panel = open_export(app)
    with app.page.expect_download(timeout=60_000) as info:
        panel.get_by_role("button", name=re.compile("PNG of step")).click()
    png = tmp_path / "step.png"
    info.value.save_as(png)
    with Image.open(io.BytesIO(png.read_bytes())) as im:  # a file's figure: the classic 980 px budget, not the screen's
        assert im.format == "PNG" and 500 <= im.size[0] <= 980, im.size
    app.page.keyboard.press("Escape")
    with app.page.expect_download(timeout=60_000) as info:
        app.page.get_by_role("button", name=re.compile("Code for this view")).first.click()
    script = tmp_path / "view.py"
    info.value.save_as(script)
    run = subprocess.run([sys.executable, "-I", str(script)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "y (1, 1, 4, 4):" in run.stdout and "dx (1, 1, 8, 8):" in run.stdout
    app.full_screenshot(SCREENSHOTS / "export_row_maxpool.png")
    app.assert_healthy()
