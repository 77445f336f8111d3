"""The URL contract (design.md): parse_query / to_query, and the old kernel links. Pure Python, no Streamlit.

A value that cannot be used is dropped with a note naming its key and the default is used; parsing never raises.
"""
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convviz.typed import parse_grid, parse_kernels
from convviz.ui.settings import (
    CHOICE_FIELDS,
    DEFAULTS,
    INT_BY_KEY,
    INT_FIELDS,
    KNOWN_KEYS,
    MAX_VALUE_CHARS,
    PAD_MODES,
    TEXT_FIELDS,
    Settings,
    parse_query,
    to_query,
)

README = Path(__file__).resolve().parents[2] / "README.md"
PAD_SIDES = ("pt", "pb", "pl", "pr")


def assert_within_caps(settings: Settings) -> None:
    for f in INT_FIELDS:
        v = getattr(settings, f.key)
        assert type(v) is int and f.low <= v <= f.high, (f.key, v)
    for key, (_, _, allowed) in CHOICE_FIELDS.items():
        assert getattr(settings, key) in allowed, key


def normalised(settings: Settings) -> Settings:
    """What survives a trip through the URL: padding sides only in custom mode, typed numbers only where they are used,
    and a typed input's shape."""
    if settings.pad != "custom":
        settings = settings.with_(**dict.fromkeys(PAD_SIDES, 0))
    if settings.kernel != "custom":
        settings = settings.with_(kv="", bv="")
    if settings.dout != "custom":
        settings = settings.with_(gv="")
    if settings.dout != "onehot":
        settings = settings.with_(oi=0, oj=0)
    if settings.data != "custom":
        return settings.with_(xv="")
    try:  # a typed input that reads sets H, W and C
        c, h, w = parse_grid(settings.xv).shape
    except ValueError:
        return settings
    return settings.with_(cin=c, h=h, w=w) if c <= 8 and h <= 32 and w <= 32 else settings


# ------------------------------------------------------------------------------------------ the field tables


def test_field_tables_agree_with_the_settings_defaults():
    for f in INT_FIELDS:
        assert getattr(DEFAULTS, f.key) == f.default and f.low <= f.default <= f.high, f.key
    for key, (_, default, allowed) in CHOICE_FIELDS.items():
        assert getattr(DEFAULTS, key) == default and default in allowed, key
    assert set(vars(DEFAULTS)) == KNOWN_KEYS
    assert DEFAULTS.spec().output_shape == (1, 1, 4, 4)  # the defaults make a valid layer


def test_readme_documents_every_url_key_with_its_default_and_cap():
    text = README.read_text()
    for f in INT_FIELDS:
        row = next((line for line in text.splitlines() if line.startswith("|") and f"`{f.key}`" in line), None)
        assert row is not None, f"README has no URL-contract row for {f.key!r}"
        assert f"{f.low}–{f.high}" in row, f"README cap of {f.key!r} is not {f.low}–{f.high}: {row}"
        assert str(f.default) in row, f"README default of {f.key!r} is not {f.default}: {row}"
    for key, (_, default, allowed) in CHOICE_FIELDS.items():
        row = next(line for line in text.splitlines() if line.startswith(f"| `{key}`"))
        assert f"`{default}`" in row and all(f"`{v}`" in row for v in allowed), row


# ---------------------------------------------------------------------------------------- to_query / parse


def test_defaults_are_left_out_of_the_url():
    assert to_query(DEFAULTS) == {}
    assert parse_query({}) == (DEFAULTS, [])
    assert to_query(Settings(h=9, kh=2)) == {"h": "9", "kh": "2"}
    # Padding sides only in custom mode; the kernel text only with the custom kernel.
    assert to_query(Settings(pt=1, kv="1")) == {}
    assert to_query(Settings(pad="custom", pt=1, kernel="custom", kv="1")) == {"pad": "custom", "pt": "1",
                                                                               "kernel": "custom", "kv": "1"}


def test_a_full_link_round_trips():
    s = Settings(h=8, w=7, cin=2, cout=3, n=2, kh=2, kw=4, sh=2, sw=3, dh=2, dw=1, pad="custom", pt=1, pb=0, pl=2, pr=1,
                 data="random", kernel="custom", seed=42, kv="1,0,0,1;0,1,1,0")
    query = to_query(s)
    assert all(isinstance(v, str) for v in query.values())
    assert parse_query(query) == (s, [])


def test_values_are_read_leniently_where_the_meaning_is_clear():
    s, notes = parse_query({"h": " 7 ", "w": "+5", "pad": "SAME", "data": " Random ", "pt": "-0", "seed": "0042"})
    assert notes == []
    assert (s.h, s.w, s.pad, s.data, s.pt, s.seed) == (7, 5, "same", "random", 0, 42)


def test_repeated_keys_use_the_last_value():
    s, notes = parse_query({"h": ["5", "7"], "pad": ["full", "same"]})
    assert (s.h, s.pad, notes) == (7, "same", [])


def test_unknown_keys_are_ignored_without_effect():
    # Other tools' parameters and view flags (present=1) are not settings.
    assert parse_query({"utm_source": "x", "present": "1", "H": "9", "": "1", "h[]": "3", "step": "4"}) == (DEFAULTS, [])


HOSTILE = ["", " ", "garbage", "-1", "0", "99999999999999999999", "inf", "-inf", "nan", "1e3", "2.5", "0x10", "1_0",
           "<script>alert(1)</script>", "'; DROP TABLE x;--", "\x00", "\u202e9", "a" * 10_000, ["7", "nope"], []]


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
@pytest.mark.parametrize("key", [f.key for f in INT_FIELDS if f.low > 0] + list(CHOICE_FIELDS))
def test_an_unusable_value_falls_back_to_the_default_with_a_note_naming_the_key(key, value):
    settings, notes = parse_query({key: value})
    assert settings == DEFAULTS
    assert len(notes) == 1 and notes[0].startswith(f"{key}:"), notes
    assert len(notes[0]) < 300, "a note quotes at most a short piece of the value"


@pytest.mark.parametrize("key,value", [("pt", "9"), ("pt", "-1"), ("seed", "10000"), ("h", "33"), ("cin", "9"),
                                       ("groups", "9"), ("oph", "4"),
                                       ("kh", "8"), ("sh", "5"), ("dh", "5"), ("pt", "1.0")])
def test_values_outside_the_caps_are_refused(key, value):
    settings, notes = parse_query({key: value})
    assert getattr(settings, key) == INT_BY_KEY[key].default
    assert len(notes) == 1 and notes[0].startswith(f"{key}:")


def test_edges_of_the_caps_are_accepted():
    for f in INT_FIELDS:
        for v in (f.low, f.high):
            s, notes = parse_query({f.key: str(v)})
            assert getattr(s, f.key) == v and notes == [], (f.key, v)


def test_several_bad_values_give_one_note_each_and_keep_the_good_ones():
    s, notes = parse_query({"h": "inf", "sh": "-1", "data": "<script>", "kh": "2.5", "w": "9", "pad": "full"})
    assert sorted(n.split(":")[0] for n in notes) == ["data", "h", "kh", "sh"]
    assert (s.h, s.sh, s.data, s.kh, s.w, s.pad) == (6, 1, "ids", 3, 9, "full")


def test_a_too_long_kernel_text_is_refused_unread():
    s, notes = parse_query({"kernel": "custom", "kv": "1," * TEXT_FIELDS["kv"]})
    assert s.kv == "" and s.kernel == "custom" and notes and notes[0].startswith("kv:")


def test_impossible_geometry_is_left_to_spec_which_names_the_parameter():
    s, notes = parse_query({"h": "2", "w": "2", "kh": "5"})
    assert notes == []  # each value is within its cap ...
    with pytest.raises(ValueError, match="kernel_size"):  # ... but together they make no layer
        s.spec()


# ------------------------------------------------------------------------------ old kernel links (kv), typed.py


@pytest.mark.parametrize("text,kh,kw,grid", [
    ("1,0;0,1", 2, 2, [[1.0, 0.0], [0.0, 1.0]]),
    (" 1, 0, -1 ; 2, 0, -2 ; 1, 0, -1 ", 3, 3, [[1, 0, -1], [2, 0, -2], [1, 0, -1]]),
    ("1 2 3\n4 5 6", 2, 3, [[1, 2, 3], [4, 5, 6]]),
    ("-.5,+2.5e1,1E-3,7.", 1, 4, [[-0.5, 25.0, 0.001, 7.0]]),
    ("3;", 1, 1, [[3.0]]),
])
def test_old_single_kernel_links_still_read_and_serve_every_pair(text, kh, kw, grid):
    w = parse_kernels(text, 2, 3, kh, kw)  # F = 2, C = 3: the one kernel for all six pairs, as before
    assert w.shape == (2, 3, kh, kw)
    for f in range(2):
        for c in range(3):
            assert w[f, c].tolist() == grid


@pytest.mark.parametrize("text,kh,kw", [
    ("", 2, 2), ("   ", 1, 1), ("1,0;0,1", 3, 2), ("1,0,0;0,1", 2, 2), ("1,0;0", 2, 2), ("1,inf;0,1", 2, 2),
    ("1,nan;0,1", 2, 2), ("1,-Infinity;0,1", 2, 2), ("1,1e309;0,1", 2, 2), ("1,2e6;0,1", 2, 2), ("1,0x1;0,1", 2, 2),
    ("<script>alert(1)</script>", 1, 1), ("1," * 3000, 1, 3000),
])
def test_bad_kernel_text_raises_a_value_error_naming_the_kernel(text, kh, kw):
    with pytest.raises(ValueError, match="^kernel"):
        parse_kernels(text, 1, 1, kh, kw)


# ------------------------------------------------------------------------------------------------ property


KEYS = st.one_of(st.sampled_from(sorted(KNOWN_KEYS)), st.text(max_size=6))
TEXT = st.one_of(st.text(max_size=40), st.sampled_from([h for h in HOSTILE if isinstance(h, str)]),
                 st.integers(-10**9, 10**9).map(str), st.floats().map(str))
VALUE = st.one_of(TEXT, st.lists(TEXT, max_size=3))


@given(st.dictionaries(KEYS, VALUE, max_size=12))
def test_any_query_parses_to_settings_within_the_caps(query):
    settings, notes = parse_query(query)
    assert_within_caps(settings)
    assert all(len(getattr(settings, k)) <= cap for k, cap in TEXT_FIELDS.items())
    for note in notes:
        assert note.split(":")[0] in KNOWN_KEYS, note
    # What the app then writes back is a clean link that parses to the same settings, silently.
    assert parse_query(to_query(settings)) == (normalised(settings), [])


def _settings_strategy():
    ints = {f.key: st.integers(f.low, f.high) for f in INT_FIELDS}
    choices = {k: st.sampled_from(v[2]) for k, v in CHOICE_FIELDS.items()}
    kv = st.text(st.sampled_from("0123456789.,;- e"), max_size=MAX_VALUE_CHARS).map(str.strip)
    return st.builds(Settings, **ints, **choices, kv=kv)


@given(_settings_strategy())
def test_every_valid_setting_round_trips_through_the_url(settings):
    query = to_query(settings)
    assert set(query) <= KNOWN_KEYS
    assert all(getattr(DEFAULTS, k) != getattr(settings, k) for k in query)  # nothing at its default is written
    assert parse_query(query) == (normalised(settings), [])


def test_pad_modes_are_the_documented_four():
    assert PAD_MODES == ("valid", "same", "full", "custom")
