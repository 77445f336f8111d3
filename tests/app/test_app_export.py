"""The export row under each figure (AppTest): the download buttons exist and carry the right data.

Downloads are captured where Streamlit hands them to its media file manager: plain data (the code) directly,
deferred callables (HTML, PNG) by calling them as a click would. Expected values come from the engine.
"""
from __future__ import annotations

import ast
import io
import subprocess
import sys

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import convviz as cv
from convviz.data import make_bias, make_input, make_kernel
from convviz.figures.export import image_export_problem
from convviz.ui.settings import parse_query
from tests.app.test_new_stages import open_page


def labels(at: AppTest) -> list[str]:
    return [d.proto.label for d in at.get("download_button")]


def printed_array(stdout: str, name: str) -> np.ndarray:
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{name} ("))
    body = []
    for line in lines[start + 1:]:
        if line and line[0].isalpha():
            break
        body.append(line)
    return np.array(ast.literal_eval(" ".join(body)), dtype=float)


QUERY = {"h": "7", "w": "6", "sh": "2", "pad": "same", "data": "random", "seed": "3", "cout": "2"}


def test_forward_page_offers_html_png_gif_and_code_and_the_code_prints_the_pages_output(downloads, tmp_path):
    at = open_page("pages/forward.py", QUERY)
    got = labels(at)
    assert "🌐 Interactive HTML (offline)" in got
    assert "🐍 Code for this view (.py)" in got
    if image_export_problem() is None:
        assert any(lb.startswith("🖼️ PNG of step") for lb in got)
        assert any(b.label.startswith("🎞️ Render animated GIF") for b in at.button)
    code = downloads["convviz_forward.py"]
    path = tmp_path / "view.py"
    path.write_bytes(code if isinstance(code, bytes) else code.encode())
    run = subprocess.run([sys.executable, "-I", str(path)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    settings, _ = parse_query(QUERY)
    spec = settings.spec()
    x, w, b = make_input(spec, "random", 3), make_kernel(spec, "random", 3), make_bias(spec, "random", 3)
    np.testing.assert_array_equal(printed_array(run.stdout, "y"), cv.conv2d(x, w, b, spec.stride, spec.padding, spec.dilation, "loops"))

    html = downloads["convviz_forward.html"]()
    assert html.lower().startswith(b"<!doctype html>") and b'src="http' not in html
    assert b"Plotly.newPlot" in html and b"Plotly.addFrames(" in html


def test_im2col_page_has_one_export_row_per_figure(downloads):
    at = open_page("pages/im2col.py", {})
    parts = [t.label for t in at.tabs]
    for k, stem in enumerate(("convviz_im2col_indices", "convviz_im2col_gather", "convviz_im2col_product")):
        if k:  # lazy tabs: each part's figure, and its export row, are built when its tab is open
            at.session_state["cv_im2col_part"] = parts[k]
            at.run()
            assert not at.exception
        got = labels(at)
        assert got.count("🐍 Code for this view (.py)") == 1  # one row under the open tab's figure
        assert got.count("🌐 Interactive HTML (offline)") == 1
        assert "cols = xpad[:, k[:, None], i, j]" in str(downloads[f"{stem}.py"])


@pytest.mark.skipif(image_export_problem() is not None, reason="no Chromium for kaleido here")
def test_png_download_is_the_current_step_rendered(downloads):
    from PIL import Image

    at = open_page("pages/maxpool.py", {"h": "8", "w": "8", "kh": "2", "kw": "2", "sh": "2", "sw": "2"})
    png_name = next(n for n in downloads if n.endswith(".png"))
    png = downloads[png_name]()
    with Image.open(io.BytesIO(png)) as im:
        assert im.format == "PNG" and im.size[0] > 300 and im.size[1] > 200
    chart = at.get("plotly_chart")[0]
    import json

    assert im.size[0] == json.loads(chart.proto.spec)["layout"]["width"]


def test_without_chromium_the_row_says_so_instead_of_failing(monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    at = open_page("pages/forward.py", {})
    assert not at.error
    notes = [i.value for i in at.info]
    assert any("BROWSER_PATH" in n and "HTML export works without it" in n for n in notes), notes
    assert not any(lb.startswith("🖼️ PNG") for lb in labels(at))
    assert "🌐 Interactive HTML (offline)" in labels(at)
