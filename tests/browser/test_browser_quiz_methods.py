"""The quizzes and the Methods & speed page in a real browser (Debian chromium, Playwright).

Run: python -m pytest tests/browser/test_browser_quiz_methods.py -q -p no:xdist
"""
from __future__ import annotations

import re

import pytest
from browser_support import SCREENSHOTS
from playwright.sync_api import expect

from tests.quiz_support import size_by_hand

pytestmark = pytest.mark.browser

QUIZ = "Quiz: predict, then reveal"


def open_quiz(app):
    """Expand the quiz and return its container."""
    box = app.page.locator('[data-testid="stExpander"]', has_text=QUIZ)
    box.locator("summary").click()
    expect(box.get_by_text("Question 1.")).to_be_visible()
    return box


def prompt_text(box) -> str:
    return box.locator('[data-testid="stMarkdownContainer"]', has_text="Question").first.inner_text()


def submit(app, box, label: str = "Check my answer") -> None:
    box.get_by_role("button", name=re.compile(label)).click()
    app.wait_for_app()


def test_output_size_quiz_right_then_wrong_with_the_score(app):
    app.open("?h=8&w=9&sh=2&sw=2")
    box = open_quiz(app)
    text = prompt_text(box)
    assert "current settings but with" in text and "kernel 3 x 3" in text, text
    oh, ow = size_by_hand(text)
    box.locator('input[aria-label="Your answer"]').fill(f"({oh}, {ow})")
    submit(app, box)
    expect(box.locator('[data-testid="stAlertContentSuccess"]')).to_contain_text(f"Right: the output is {oh} x {ow}")
    expect(box).to_contain_text("1 of 1 right this session")
    app.full_screenshot(SCREENSHOTS / "quiz-right.png")
    box.get_by_role("button", name=re.compile("New question")).click()
    app.wait_for_app()
    expect(box.get_by_text("Question 2.")).to_be_visible()
    oh, ow = size_by_hand(prompt_text(box))
    box.locator('input[aria-label="Your answer"]').fill(f"{oh + 1} x {ow}")
    submit(app, box)
    expect(box.locator('[data-testid="stAlertContentError"]')).to_contain_text("Not quite")
    expect(box).to_contain_text("1 of 2 right this session")
    expect(box).to_contain_text("Why:")
    app.full_screenshot(SCREENSHOTS / "quiz-wrong.png")
    app.assert_healthy()


def open_list(app, picker, tries: int = 10) -> None:
    """Click the multiselect until its option list shows (a click during the expander's opening animation can miss)."""
    listbox = app.page.locator('[role="listbox"]')
    for _ in range(tries):
        picker.click()
        try:
            listbox.wait_for(state="visible", timeout=1000)
            return
        except Exception:
            app.page.keyboard.press("Escape")
    expect(listbox).to_be_visible()


def test_window_quiz_answered_by_picking_cells(app):
    app.open("forward?h=7&sh=2")
    box = open_quiz(app)
    i, j = map(int, re.search(r"y\[(\d+), (\d+)\]", prompt_text(box)).groups())
    cells = [f"({r}, {c})" for r in range(2 * i, 2 * i + 3) for c in range(j, j + 3)]  # stride 2 x 1, 3x3, no padding
    picker = box.locator('[data-testid="stMultiSelect"] input')
    for cell in cells:
        open_list(app, picker)
        picker.fill(cell)
        options = app.page.locator('[role="option"]')
        expect(options).to_have_count(1)  # the filter leaves exactly this cell (a 7x6 input has no (14, 2))
        expect(options.first).to_have_text(cell)
        expect(options.first).to_have_attribute("data-focused", "true")  # Enter picks the focused option
        picker.press("Enter")
        expect(box.locator('[data-testid="stMultiSelect"]')).to_contain_text(cell)  # the chip (the typed text is gone)
        app.wait_for_app(chart=False)  # the pick's rerun redraws the picker, closing a list opened before it ends
    app.page.keyboard.press("Escape")
    submit(app, box)
    expect(box.locator('[data-testid="stAlertContentSuccess"]')).to_contain_text("Right: 9 cells")
    expect(box).to_contain_text("1 of 1 right this session")
    app.full_screenshot(SCREENSHOTS / "quiz-forward-cells.png")
    app.assert_healthy()


def test_methods_page_runs_with_a_progress_bar_and_shows_the_table(app):
    app.open("methods")
    expect(app.page.locator("h1")).to_contain_text("Methods & speed")
    h = app.page.locator('[data-testid="stMain"] input[aria-label="H (height)"]')
    h.fill("24")
    h.press("Enter")
    app.wait_for_app()
    app.page.get_by_role("button", name=re.compile("Run the timings")).click()
    expect(app.page.locator('[data-testid="stProgress"]')).to_be_visible(timeout=10_000)
    app.wait_for_app()
    table = app.page.locator('[data-testid="stMain"] [data-testid="stTable"]')
    for method in ("loops", "im2col", "strided", "col2im", "transposed"):
        expect(table).to_contain_text(method)
    expect(table).to_contain_text("reference")
    expect(table).not_to_contain_text("not run")
    successes = app.alerts("Success")
    assert sum("agree with loops" in s for s in successes) == 2, successes
    assert app.page.locator(".js-plotly-plot").count() == 2, "memory chart and timing chart"
    assert any("(2, 8, 24, 32)" in c for c in app.texts('[data-testid="stCaptionContainer"]'))
    app.full_screenshot(SCREENSHOTS / "methods-run.png")
    app.assert_healthy()
