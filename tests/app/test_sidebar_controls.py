"""The sidebar's settings under AppTest: each one a control a hand can use (slider, segmented control, radio), each
change reaching the settings and the URL, every link of the README's URL table seeding them exactly, Reset.

Number inputs showed no - / + buttons at the sidebar's width, so every change had to be typed (painful on a phone).
Most runs here are on Methods & speed: it draws no figure from the sidebar's settings, so they test the sidebar alone.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from convviz.data import INPUT_PRESETS, KERNEL_PRESETS
from convviz.ui.controls import DOUT_LABELS
from convviz.ui.settings import (
    CHOICE_FIELDS,
    DEFAULTS,
    INT_FIELDS,
    PAGE_FIELDS,
    TEXT_FIELDS,
    Settings,
    parse_query,
    to_query,
)

APP = str(Path(__file__).resolve().parents[2] / "app.py")
METHODS = "pages/methods.py"
# Kinds of widget that change a setting with one click, drag, tap or arrow key (AppTest's class names): sliders,
# segmented controls and pills (ButtonGroup), radios, select sliders. Not number inputs (typed) nor select boxes (two
# taps: open, pick).
ONE_TAP = {"Slider", "ButtonGroup", "Radio", "SelectSlider"}
# typed numbers (TEXT_FIELDS) are text by nature; a page's own settings (PAGE_FIELDS) are drawn on their pages
SETTINGS = [name for name in vars(DEFAULTS) if name not in TEXT_FIELDS and name not in PAGE_FIELDS]
SIDEBAR_CHOICES = [n for n in CHOICE_FIELDS if n not in PAGE_FIELDS]
# Every key of the README's URL table at a value other than its default (kv fits KH x KW = 2 x 5).
EVERY_KEY = {"h": "9", "w": "11", "n": "2", "cin": "3", "cout": "4", "kh": "2", "kw": "5", "sh": "3", "sw": "2",
             "dh": "2", "dw": "3", "pad": "custom", "pt": "1", "pb": "2", "pl": "3", "pr": "8", "data": "image",
             "kernel": "custom", "kv": "1,0,-1,0,1;2,0,-2,0,2", "bv": "1,2,3,4", "seed": "4321", "dout": "onehot",
             "oi": "1", "oj": "2", "present": "1"}


def open_app(query: dict | None = None, page: str | None = METHODS) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(query or {})
    if page:
        at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def control(at: AppTest, name: str):
    """The sidebar widget of a setting (its state key is cv_<name>), which must be one of the one-tap kinds."""
    widget = at.sidebar.get_by_key(f"cv_{name}")
    assert type(widget).__name__ in ONE_TAP, (name, type(widget).__name__)
    return widget


def query(at: AppTest) -> dict[str, str]:
    return {k: at.query_params.get(k) for k in at.query_params.keys()}


def settings(at: AppTest) -> Settings:
    return at.session_state["cv_settings"]


def choices(name: str) -> list:
    """Every value a setting may take, as the settings hold it."""
    ints = {f.key: f for f in INT_FIELDS}
    if name in ints:
        return list(range(ints[name].low, ints[name].high + 1))
    return list(CHOICE_FIELDS[name][2])


def test_every_setting_is_a_one_tap_control_with_the_full_range():
    at = open_app({"pad": "custom", "kernel": "custom", "dout": "onehot"})  # the sides, texts, one-hot cell drawn too
    assert not at.sidebar.number_input, [n.label for n in at.sidebar.number_input]
    for name in SETTINGS:
        widget = control(at, name)
        want = choices(name)
        if type(widget).__name__ == "Slider":
            assert (widget.proto.min, widget.proto.max, widget.proto.step) == (want[0], want[-1], 1), name
        else:
            labels = {"data": INPUT_PRESETS, "kernel": KERNEL_PRESETS, "dout": DOUT_LABELS}.get(name, {})
            assert widget.options == [labels.get(v, str(v)) for v in want], name
        if type(widget).__name__ == "ButtonGroup":
            assert widget.proto.required, f"{name}: a click on the selected segment must not clear it"
    kinds = [(type(n).__name__, getattr(n, "key", None)) for n in at.sidebar]
    widgets = [k for k in kinds if k[1]]
    assert widgets[0] == ("Toggle", "cv_present"), "presenter mode stays the toggle at the top"


def test_changing_each_setting_by_its_widget_changes_the_settings_and_the_url():
    base = {"pad": "custom", "kernel": "custom", "dout": "onehot"}  # the sides, texts and one-hot cell drawn too
    start, _ = parse_query(base)
    at = open_app(base)
    for name in SETTINGS:
        default = getattr(start, name)
        for value in (choices(name)[-1], choices(name)[0]):
            if value == default:
                continue
            control(at, name).set_value(value).run()
            assert not at.exception, (name, value, [e.value for e in at.exception])
            assert control(at, name).value == value and type(control(at, name).value) is type(default), name
            assert settings(at) == start.with_(**{name: value}), (name, value)
            assert query(at) == to_query(start.with_(**{name: value})), (name, value)
            assert query(at).get(name, str(value)) == str(value)  # in the URL unless custom padding is off
        control(at, name).set_value(default).run()
        assert settings(at) == start and query(at) == base, name


def test_a_link_with_every_key_seeds_every_widget_exactly():
    at = open_app(EVERY_KEY)
    expected, notes = parse_query(EVERY_KEY)
    assert not notes, notes
    for name in SETTINGS:
        value = control(at, name).value
        assert value == getattr(expected, name) and type(value) is type(getattr(expected, name)), name
    assert at.sidebar.text_area(key="cv_kv").value == EVERY_KEY["kv"]
    assert at.sidebar.toggle(key="cv_present").value is True
    assert settings(at) == expected
    assert query(at) == EVERY_KEY, "the link reopens exactly as it came"


@pytest.mark.parametrize("end", ["low", "high"])
def test_every_setting_at_either_end_of_its_cap_opens_without_an_error(end):
    """No widget raises on a value the URL validation lets through: every key at its lowest, then at its highest."""
    link = {f.key: str(f.low if end == "low" else f.high) for f in INT_FIELDS}
    at = open_app({**link, "pad": "custom", "dout": "onehot"})
    settings_, _ = parse_query({**link, "pad": "custom", "dout": "onehot"})
    assert all(getattr(settings_, k) == int(v) for k, v in link.items())  # the page settings are taken too
    for name in SETTINGS:
        assert control(at, name).value == getattr(settings_, name), name
    assert query(at) == to_query(settings_)


@pytest.mark.parametrize(("name", "value"), [(n, v) for n in SIDEBAR_CHOICES for v in CHOICE_FIELDS[n][2]])
def test_every_choice_opens_from_a_link(name, value):
    at = open_app({name: value})
    assert control(at, name).value == value
    assert query(at) == ({} if value == getattr(DEFAULTS, name) else {name: value})


def test_defaults_leave_the_url_empty_and_reset_restores_them():
    at = open_app()
    assert query(at) == {}
    assert settings(at) == DEFAULTS
    changes = {"h": 12, "kw": 5, "sh": 2, "pad": "full", "data": "random", "seed": 77}
    for name, value in changes.items():
        control(at, name).set_value(value)
    at.run()
    assert query(at) == {k: str(v) for k, v in changes.items()}
    next(b for b in at.sidebar.button if b.label == "Reset to defaults").click().run()
    assert not at.exception, [e.value for e in at.exception]
    for name in SETTINGS:
        if name not in ("pt", "pb", "pl", "pr", "oi", "oj"):  # drawn only for custom padding, a one-hot dout
            assert control(at, name).value == getattr(DEFAULTS, name), name
    assert settings(at) == DEFAULTS and query(at) == {}


def test_a_click_on_the_selected_segment_keeps_the_setting():
    """A segmented control can be cleared (None); a setting never may: the value stays what it was."""
    at = open_app({"sh": "2", "pad": "same"})
    for name, value in (("sh", 2), ("pad", "same"), ("kh", 3)):
        control(at, name).set_value(None).run()
        assert not at.exception, [e.value for e in at.exception]
        assert control(at, name).value == value, name
        assert getattr(settings(at), name) == value, name
    assert query(at) == {"sh": "2", "pad": "same"}


def test_padding_sides_shown_again_start_from_their_defaults():
    """Leaving custom padding drops the sides (the URL had them only in custom mode); coming back, each side shows a
    selected value, the one the settings use (a segmented control without state would show none)."""
    at = open_app({"pad": "custom", "pt": "2", "pr": "5"})
    control(at, "pad").set_value("valid").run()
    control(at, "pad").set_value("custom").run()
    for side in ("pt", "pb", "pl", "pr"):
        assert control(at, side).value == 0 == getattr(settings(at), side), side
    assert query(at) == {"pad": "custom"}
