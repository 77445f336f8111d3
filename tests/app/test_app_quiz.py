"""The predict-then-reveal quizzes under AppTest, opened through app.py as a shared link would.

Expected answers are worked out here by hand from the settings in the URL (or with the loop reference, or
torch.nn.Conv2d for a parameter count), never read from the page's own answer: a right answer must be marked
right and raise the score, a wrong one marked wrong, an unreadable one asked again, and "New question" must ask
something new.
"""
import re
from pathlib import Path

import numpy as np
import torch
from streamlit.testing.v1 import AppTest

from convviz.data import make_input
from convviz.ui.settings import Settings
from tests import reference as ref
from tests.quiz_support import grouped_layer, size_by_hand, transposed_layer, transposed_size_by_hand

APP = str(Path(__file__).resolve().parents[2] / "app.py")
QUIZ = "Quiz: predict, then reveal"
QUIZ_TOPICS = ("window_cells", "output_size", "im2col_column", "gradient", "transposed_size",
               "grouped_params", "receptive_field")  # the pages' quiz_box topics


def open_page(page: str, query: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.update(query)
    for topic in QUIZ_TOPICS:  # the quiz box is lazy: open it, as a click on it does
        at.session_state[f"cvq_box_{topic}"] = True
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def quiz(at: AppTest):
    (box,) = [e for e in at.expander if e.label == QUIZ]
    return box


def prompt(at: AppTest) -> str:
    return next(m.value for m in quiz(at).markdown if m.value.startswith("**Question"))


def unescape(md: str) -> str:
    return re.sub(r"\\(.)", r"\1", md)


def score(at: AppTest) -> str:
    return next(m.value for m in quiz(at).markdown if m.value.startswith("**Score:**"))


def check(at: AppTest, topic: str) -> AppTest:
    at.button(key=f"cvq_check_{topic}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def new_question(at: AppTest, topic: str) -> AppTest:
    at.button(key=f"cvq_new_{topic}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def window_by_hand(i: int, j: int, sh: int, sw: int, kh: int, kw: int) -> list[str]:
    """Valid padding, no dilation: rows i*SH .. i*SH+KH-1, columns j*SW .. j*SW+KW-1."""
    return [f"({r}, {c})" for r in range(i * sh, i * sh + kh) for c in range(j * sw, j * sw + kw)]


# ------------------------------------------------------------------------------------------- forward page


def test_forward_quiz_marks_a_right_answer_right_and_the_score_goes_up():
    at = open_page("pages/forward.py", {"h": "8", "sh": "2"})
    text = unescape(prompt(at))
    assert "input 8 x 6" in text and "stride 2 x 1" in text
    i, j = map(int, re.search(r"y\[(\d+), (\d+)\]", text).groups())
    assert "No questions answered yet" in score(at)
    at.multiselect(key=quiz(at).multiselect[0].key).set_value(list(reversed(window_by_hand(i, j, 2, 1, 3, 3))))
    check(at, "window_cells")
    assert [s.value for s in quiz(at).success][0].startswith("✓ Right")
    assert "1 of 1 right this session" in score(at)
    assert not quiz(at).multiselect, "the form is replaced by the reveal once answered"
    assert any(m.value.startswith("**Why:**") for m in quiz(at).markdown)


def test_forward_quiz_marks_a_wrong_answer_wrong_and_new_question_asks_another():
    at = open_page("pages/forward.py", {"h": "8", "sh": "2"})
    first = prompt(at)
    i, j = map(int, re.search(r"y\[(\d+), (\d+)\]", unescape(first)).groups())
    cells = window_by_hand(i, j, 2, 1, 3, 3)
    at.multiselect(key=quiz(at).multiselect[0].key).set_value(cells[:-1])  # one cell short
    check(at, "window_cells")
    errors = [e.value for e in quiz(at).error]
    assert errors and errors[0].startswith("✗ Not quite") and "missing" in errors[0]
    assert "0 of 1 right this session" in score(at)
    answer = next(m.value for m in quiz(at).markdown if m.value.startswith("**Answer:**"))
    assert all(unescape(c) in unescape(answer) for c in cells)
    new_question(at, "window_cells")
    assert prompt(at).startswith("**Question 2.**") and prompt(at) != first
    assert quiz(at).multiselect, "a fresh question is asked, not revealed"
    assert "0 of 1 right this session" in score(at)


def test_the_score_is_one_per_session_across_pages_and_settings_change_the_question():
    at = open_page("pages/forward.py", {})
    text = unescape(prompt(at))
    i, j = map(int, re.search(r"y\[(\d+), (\d+)\]", text).groups())
    at.multiselect(key=quiz(at).multiselect[0].key).set_value(window_by_hand(i, j, 1, 1, 3, 3))
    check(at, "window_cells")
    at.switch_page("pages/shapes.py")
    at.run()
    assert "1 of 1 right this session" in score(at)
    before = prompt(at)
    at.slider(key="cv_h").set_value(9).run()
    assert prompt(at) != before and "input 9 x 6" in unescape(prompt(at))


# ------------------------------------------------------------------------------------------- shapes page


def test_shapes_quiz_accepts_equivalent_spellings_and_rejects_a_wrong_size():
    query = {"h": "8", "w": "9", "sh": "2", "sw": "2"}
    at = open_page("pages/shapes.py", query)
    text = unescape(prompt(at))
    assert "current settings but with" in text and "kernel 3 x 3" in text  # the page prints the current size itself
    oh, ow = size_by_hand(text)
    at.text_input(key=quiz(at).text_input[0].key).input(f" ({oh} ,{ow}) ")
    check(at, "output_size")
    assert quiz(at).success and f"{oh} x {ow}" in quiz(at).success[0].value
    assert "1 of 1" in score(at)

    wrong = open_page("pages/shapes.py", query)
    assert oh != ow
    wrong.text_input(key=quiz(wrong).text_input[0].key).input(f"{ow}x{oh}")
    check(wrong, "output_size")
    assert quiz(wrong).error and "other way round" in quiz(wrong).error[0].value
    assert "0 of 1" in score(wrong)


def test_an_unreadable_answer_is_asked_again_and_does_not_count():
    at = open_page("pages/shapes.py", {})
    at.text_input(key=quiz(at).text_input[0].key).input("no idea")
    check(at, "output_size")
    assert quiz(at).warning and "Could not read" in quiz(at).warning[0].value
    assert quiz(at).text_input, "still asking"
    assert "No questions answered yet" in score(at)


def test_reveal_without_answering_counts_as_not_right():
    at = open_page("pages/shapes.py", {})
    oh, ow = size_by_hand(unescape(prompt(at)))
    at.button(key="cvq_reveal_output_size").click().run()
    assert quiz(at).info and "0 of 1" in score(at)
    assert any(unescape(m.value) == f"**Answer:** {oh} x {ow}" for m in quiz(at).markdown)


def test_typed_text_is_shown_escaped_never_as_html():
    at = open_page("pages/shapes.py", {})
    oh, ow = size_by_hand(unescape(prompt(at)))
    at.text_input(key=quiz(at).text_input[0].key).input(f"<script>alert()</script> **{oh}** x [{ow}](http://x)")
    check(at, "output_size")
    echo = next(m for m in quiz(at).markdown if m.value.startswith("Your answer:"))
    assert not echo.allow_html
    assert "<script>" not in echo.value and r"\<script\>" in echo.value and rf"\*\*{oh}\*\*" in echo.value


# ------------------------------------------------------------------------------------------- im2col page


def test_im2col_quiz_values_from_the_reference_unfold_are_right():
    query = {"h": "5", "w": "5", "sh": "2", "pad": "custom", "pt": "1", "pl": "1"}
    at = open_page("pages/im2col.py", query)
    text = unescape(prompt(at))
    k = int(re.search(r"column l = (\d+)", text).group(1))
    spec = Settings(h=5, w=5, sh=2, pad="custom", pt=1, pl=1).spec()
    x = make_input(spec, "ids", 0)  # the page's data preset, built here from the public API
    cols = ref.unfold(ref.pad4(x, 1, 0, 1, 0), (3, 3), (2, 1), (0, 0), (1, 1))  # reference unfold of the pre-padded input
    at.text_input(key=quiz(at).text_input[0].key).input(" ".join(f"{v:g}" for v in cols[0, :, k]))
    check(at, "im2col_column")
    assert quiz(at).success, [e.value for e in quiz(at).error]
    new_question(at, "im2col_column")
    k2 = int(re.search(r"column l = (\d+)", unescape(prompt(at))).group(1))
    wrong_order = cols[0, ::-1, k2]  # the right values, read in the wrong order (v slowest)
    assert not np.array_equal(wrong_order, cols[0, :, k2])
    at.text_input(key=quiz(at).text_input[0].key).input(", ".join(f"{v:g}" for v in wrong_order))
    check(at, "im2col_column")
    assert quiz(at).error and "1 of 2" in score(at)


# ------------------------------------------------------------------------------------------- input gradient page


def test_input_gradient_quiz_asks_where_gradient_goes_then_which_cells_get_none():
    at = open_page("pages/input_gradient.py", {"h": "8", "sh": "2"})
    text = unescape(prompt(at))
    i, j = map(int, re.search(r"dout\[(\d+), (\d+)\]", text).groups())
    at.multiselect(key=quiz(at).multiselect[0].key).set_value(window_by_hand(i, j, 2, 1, 3, 3))
    check(at, "gradient")
    assert quiz(at).success
    new_question(at, "gradient")
    assert "no gradient at all" in unescape(prompt(at))
    # (8 - 3) mod 2 = 1: row 7 is never read; width 6 with stride 1 leaves no column out
    at.multiselect(key=quiz(at).multiselect[0].key).set_value([f"(7, {c})" for c in range(6)])
    check(at, "gradient")
    assert quiz(at).success and "2 of 2" in score(at)


def test_the_quiz_is_built_only_while_its_box_is_open():
    at = AppTest.from_file(APP, default_timeout=90)
    at.switch_page("pages/forward.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not quiz(at).markdown and not quiz(at).button, "closed: no question is built or sent"
    at.session_state["cvq_box_window_cells"] = True
    at.run()
    assert prompt(at).startswith("**Question 1.**")


# ------------------------------------------------------------------------------------------- transposed convolution page


def test_transposed_quiz_asks_a_what_if_size_and_the_formulas_answer_scores():
    query = {"h": "3", "w": "4", "sh": "2", "sw": "2", "oph": "1", "opw": "0", "pad": "custom", "pt": "1", "pb": "1",
             "pl": "1", "pr": "1"}
    at = open_page("pages/conv_transpose.py", query)
    text = unescape(prompt(at))
    # The page prints this layer's o' (2*(3-1) + 2 + 1 - 2 + 1 = 6 rows), so the quiz changes one setting of it.
    assert "transposed convolution" in text and "current settings but with" in text
    layer = transposed_layer(text)
    current = (3, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0)
    assert layer != current and sum(a != b for a, b in zip(layer, current)) <= 2  # one change (a pair for a stride x a)
    oh, ow = transposed_size_by_hand(text)
    assert "No questions answered yet" in score(at)
    at.text_input(key=quiz(at).text_input[0].key).input(f"{oh} x {ow}")
    check(at, "transposed_size")
    assert quiz(at).success and f"{oh} x {ow}" in quiz(at).success[0].value
    assert "1 of 1 right this session" in score(at)
    why = unescape(next(m.value for m in quiz(at).markdown if m.value.startswith("**Why:**")))
    assert "o' = S(i'−1) + D(K−1) + 1 − 2p + a" in why

    new_question(at, "transposed_size")
    text2 = unescape(prompt(at))
    assert prompt(at).startswith("**Question 2.**") and text2 != text
    oh2, ow2 = transposed_size_by_hand(text2)
    at.text_input(key=quiz(at).text_input[0].key).input(f"{oh2 + 1} x {ow2}")
    check(at, "transposed_size")
    assert quiz(at).error and quiz(at).error[0].value.startswith("✗ Not quite")
    assert "1 of 2 right this session" in score(at)


def test_transposed_quiz_with_the_default_settings():
    at = open_page("pages/conv_transpose.py", {})
    oh, ow = transposed_size_by_hand(unescape(prompt(at)))
    at.text_input(key=quiz(at).text_input[0].key).input(f"({oh}, {ow})")
    check(at, "transposed_size")
    assert quiz(at).success and "1 of 1" in score(at)


# ------------------------------------------------------------------------------------------- grouped page


def torch_params(c: int, f: int, kh: int, kw: int, g: int, bias: bool) -> int:
    m = torch.nn.Conv2d(c, f, (kh, kw), groups=g, bias=bias)
    return sum(p.numel() for p in m.parameters())


def test_grouped_quiz_with_one_channel_asks_about_the_example_the_figure_draws():
    """The sidebar's default layer has one channel: the figure shows C = 2, F = 4, groups = 2, and so does the quiz."""
    at = open_page("pages/grouped.py", {})
    text = unescape(prompt(at))
    c, f, kh, kw, g, bias = grouped_layer(text)
    assert (c, f, kh, kw) == (2, 4, 3, 3) and g == 1  # the page prints groups = 2's count: the other divisor
    want = torch_params(c, f, kh, kw, g, bias)
    at.text_input(key=quiz(at).text_input[0].key).input(f"{want} parameters")
    check(at, "grouped_params")
    assert quiz(at).success and str(want) in quiz(at).success[0].value
    assert "1 of 1 right this session" in score(at)
    why = unescape(next(m.value for m in quiz(at).markdown if m.value.startswith("**Why:**")))
    assert "F·(C/g)·KH·KW" in why and str(torch_params(c, f, kh, kw, 1, bias)) in why  # what groups = 1 costs


def test_grouped_quiz_on_the_sidebars_layer_marks_a_wrong_count_and_an_unreadable_one():
    at = open_page("pages/grouped.py", {"cin": "6", "cout": "4", "groups": "2", "kh": "1", "kw": "5"})
    text = unescape(prompt(at))
    c, f, kh, kw, g, bias = grouped_layer(text)
    assert (c, f, kh, kw, g) == (6, 4, 1, 5, 1)  # 1 and 2 divide 6 and 4; the page shows groups = 2
    at.text_input(key=quiz(at).text_input[0].key).input("about a hundred")
    check(at, "grouped_params")
    assert quiz(at).warning and "No questions answered yet" in score(at)
    want = torch_params(c, f, kh, kw, g, bias)
    at.text_input(key=quiz(at).text_input[0].key).input(str(want + 1))
    check(at, "grouped_params")
    assert quiz(at).error and "0 of 1" in score(at)
    assert any(unescape(m.value) == f"**Answer:** {want}" for m in quiz(at).markdown)
    new_question(at, "grouped_params")
    c2, f2, kh2, kw2, g2, bias2 = grouped_layer(unescape(prompt(at)))
    assert (g2, bias2) != (g, bias)
    at.text_input(key=quiz(at).text_input[0].key).input(f"{torch_params(c2, f2, kh2, kw2, g2, bias2):,}")
    check(at, "grouped_params")
    assert quiz(at).success and "1 of 2" in score(at)


# ------------------------------------------------------------------------------------------- network page


def test_network_quiz_asks_a_receptive_field_and_grades_the_hand_computed_answer():
    at = open_page("pages/network.py", {"net": "c3p1,relu,max2,c3", "h": "8", "w": "8"})
    text = unescape(prompt(at))
    assert "receptive field" in text
    stack = re.search(r"net = ([\w,]+)", text).group(1)  # the stack asked about
    r, jump = 1, 1  # the closed form, by hand: r += (k' - 1) * jump; jump *= s
    for token in stack.split(","):
        m = re.fullmatch(r"(c|max|avg)(\d)(?:s(\d))?(?:p\d)?(?:d(\d))?\w*", token)
        if not m:
            continue  # relu
        k, s, d = int(m.group(2)), m.group(3), int(m.group(4) or 1)
        s = int(s) if s else (1 if m.group(1) == "c" else k)
        r, jump = r + d * (k - 1) * jump, jump * s
    at.text_input(key=quiz(at).text_input[0].key).set_value(f"{r} x {r}")
    check(at, "receptive_field")
    assert [v.value for v in quiz(at).success][0].startswith("✓"), (text, r)
