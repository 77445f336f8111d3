"""Uploading a picture and typing numbers in a real browser: the file input, the typed input box, the link."""
from __future__ import annotations

import numpy as np
import pytest
from browser_support import SCREENSHOTS
from PIL import Image

pytestmark = pytest.mark.browser


def png(path, a: np.ndarray) -> None:
    Image.fromarray(a.astype(np.uint8)).save(path, format="PNG")


def test_an_uploaded_photo_becomes_numbers_in_the_link(new_app, tmp_path):
    pic = np.zeros((16, 24))
    pic[:, 12:] = 255  # black on the left half, white on the right: 0 and 9 after averaging 4 x 4 blocks
    png(tmp_path / "ramp.png", pic)
    app = new_app().open("forward?data=image&h=4&w=6")
    app.page.locator('[data-testid="stSidebar"] input[type="file"]').set_input_files(str(tmp_path / "ramp.png"))
    app.page.wait_for_function("() => location.search.includes('data=custom')", timeout=30_000)
    app.wait_for_app()
    app.assert_healthy()
    q = app.query()
    rows = [[float(v) for v in r.split(",")] for r in q["xv"].split(";")]
    assert len(rows) == 4 and all(len(r) == 6 for r in rows)
    assert all(r == [0, 0, 0, 9, 9, 9] for r in rows), rows
    app.full_screenshot(SCREENSHOTS / "upload-forward.png")


def test_a_file_that_is_not_a_picture_is_explained_in_the_sidebar(new_app, tmp_path):
    (tmp_path / "notes.png").write_bytes(b"just some text, not a picture")
    app = new_app().open("forward?data=image")
    app.page.locator('[data-testid="stSidebar"] input[type="file"]').set_input_files(str(tmp_path / "notes.png"))
    alert = app.page.locator('[data-testid="stSidebar"] [data-testid="stAlertContentError"]')
    alert.first.wait_for(timeout=30_000)
    assert "not a PNG or JPEG" in alert.first.inner_text()
    assert app.query().get("data") == "image"


def test_a_typed_input_with_a_mistake_names_its_row_and_keeps_the_figure(new_app):
    app = new_app().open("forward?data=custom&xv=1,2,3;4,5,6;7,8,9")
    box = app.page.locator('[data-testid="stSidebar"] textarea').first
    box.fill("1,2,3;4,5;7,8,9")
    box.press("Control+Enter")
    app.wait_for_app()
    errors = " ".join(app.alerts("Error"))
    assert "row 2 has 2 numbers" in errors, errors
    assert app.page.locator(".js-plotly-plot").count() >= 1  # the last numbers that worked are still drawn
    assert box.input_value() == "1,2,3;4,5;7,8,9"
