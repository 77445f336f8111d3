"""Predict-then-reveal quizzes: a question from the current settings, an answer, immediate feedback, a score.

A page adds one with `quiz_box("window_cells", ctx)` at its end; it asks about `ctx.spec` (a TransposedSpec on the
transposed convolution page), or about the `spec` passed when the page draws another layer than the sidebar's (the
grouped page's example). The question is rebuilt on every run from (topic, layer, question seed), so changing the
sidebar asks about the new layer, and "New question" only moves the seed. Answers are graded in the submit button's
callback (before the script runs), so the reveal shows in the same run. The session score counts each question once,
across pages.
"""
from __future__ import annotations

import zlib

import streamlit as st

from ..geometry import ConvSpec
from ..network import NetSpec
from ..quiz import CELLS, Question, cell_label, make_question
from ..transposed import TransposedSpec
from .page import Context, escape_md

SCORE_KEY = "cv_quiz_score"  # {"right": int, "answered": int} for the whole session
RESULTS_KEY = "cv_quiz_results"  # question id -> (the learner's answer as text, Grade, revealed without answering)
MAX_PICK = 400  # up to this many candidate cells a multiselect; beyond, a text box is easier
MAX_ECHO = 300  # characters of a typed answer echoed back


def _score() -> dict[str, int]:
    return st.session_state.setdefault(SCORE_KEY, {"right": 0, "answered": 0})


def score_text() -> str:
    s = _score()
    return f"{s['right']} of {s['answered']} right this session" if s["answered"] else "No questions answered yet this session"


def question_id(key: str, seed: int, q: Question) -> str:
    """Stable per (box, seed, question text): the same settings give the same id, new settings a new one."""
    return f"{key}-{seed}-{zlib.crc32((q.prompt + q.answer_text).encode()):08x}"


def _uses_picker(q: Question) -> bool:
    return q.kind == CELLS and 0 < len(q.choices) <= MAX_PICK


def _response(q: Question, widget_key: str):
    value = st.session_state.get(widget_key)
    if _uses_picker(q):
        return list(value or [])
    return str(value or "")


def _check(q: Question, qid: str, widget_key: str, box_key: str, reveal: bool) -> None:
    """Submit callback: grade, remember the result, move the score (once per question)."""
    results = st.session_state.setdefault(RESULTS_KEY, {})
    if qid in results:
        return
    response = _response(q, widget_key)
    shown = response if isinstance(response, str) else " ".join(response)
    grade = q.grade(response)
    if not reveal and not grade.readable:
        st.session_state[f"cvq_msg_{box_key}"] = grade.feedback  # ask again; the score does not move
        return
    results[qid] = (shown, grade, reveal)
    score = _score()
    score["answered"] += 1
    score["right"] += int(grade.correct and not reveal)


def _new_question(box_key: str) -> None:
    st.session_state[f"cvq_seed_{box_key}"] = int(st.session_state.get(f"cvq_seed_{box_key}", 0)) + 1


QUIZ_LABEL = "Quiz: predict, then reveal"


def quiz_box(topic: str, ctx: Context, key: str | None = None, spec: ConvSpec | TransposedSpec | NetSpec | None = None) -> None:
    """An expander with one question of `topic` (see convviz.quiz.TOPICS) about the current layer.

    spec: the layer to ask about when the page draws another than `ctx.spec` (of the type the topic takes,
    `convviz.quiz.spec_type(topic)`: the network page's stack is a NetSpec); default `ctx.spec`."""
    key = key or topic
    # Lazy: the question and its form are built and sent only while the box is open (opening it reruns the page).
    box = st.expander(QUIZ_LABEL, icon="🎯", key=f"cvq_box_{key}", on_change="rerun")
    if box.open:
        with box:
            _quiz_body(topic, ctx, key, ctx.spec if spec is None else spec)


def _quiz_body(topic: str, ctx: Context, key: str, spec: ConvSpec | TransposedSpec | NetSpec) -> None:
    seed = int(st.session_state.get(f"cvq_seed_{key}", 0))
    try:
        q = make_question(topic, spec, ctx.arrays.x, seed)
    except ValueError as err:  # should not happen for a valid layer; never a traceback
        st.error(f"No question for these settings: {err}")
        return
    qid = question_id(key, seed, q)
    st.markdown(f"**Question {seed + 1}.** {escape_md(q.prompt)}")
    result = st.session_state.get(RESULTS_KEY, {}).get(qid)
    if result is None:
        _ask(q, qid, key)
    else:
        _reveal(q, *result)
    left, right = st.columns([1, 2])
    left.button("🔁 New question", key=f"cvq_new_{key}", on_click=_new_question, args=(key,))
    right.markdown(f"**Score:** {score_text()}")


def _ask(q: Question, qid: str, key: str) -> None:
    widget_key = f"cvq_answer_{qid}"
    with st.form(key=f"cvq_form_{key}", border=False):
        if _uses_picker(q):
            labels = [cell_label(c) for c in q.choices]
            st.multiselect("Your answer: pick the cells (row, column)", labels, key=widget_key,
                           placeholder="Pick cells, or leave empty for none")
        else:
            st.text_input("Your answer", key=widget_key, max_chars=2000, placeholder=q.how_to_answer)
        st.caption(escape_md(q.how_to_answer))
        check, reveal = st.columns([1, 1])
        with check:
            st.form_submit_button("✅ Check my answer", key=f"cvq_check_{key}", type="primary", on_click=_check,
                                  args=(q, qid, widget_key, key, False))
        with reveal:
            st.form_submit_button("👀 Reveal without answering", key=f"cvq_reveal_{key}", on_click=_check,
                                  args=(q, qid, widget_key, key, True), help="Counts as answered, not right.")
    message = st.session_state.pop(f"cvq_msg_{key}", None)
    if message:
        st.warning(f"Could not read that answer. {escape_md(message)}")


def _reveal(q: Question, shown: str, grade, revealed: bool) -> None:
    if revealed:
        st.info("Revealed without an answer (counted as not right).")
    elif grade.correct:
        st.success("✓ " + escape_md(grade.feedback))
    else:
        st.error("✗ " + escape_md(grade.feedback))
    if not revealed:
        echo = " ".join(shown.split())
        echo = echo if len(echo) <= MAX_ECHO else echo[: MAX_ECHO - 3] + "..."
        st.markdown("Your answer: " + (escape_md(echo) if echo else "*(empty: none)*"))
    st.markdown(f"**Answer:** {escape_md(q.answer_text)}")
    st.markdown(f"**Why:** {escape_md(q.explanation)}")
