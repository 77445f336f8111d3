"""The Bug lab page's computations, cached on the settings and the bug (pages/bug_lab.py draws them).

Running the buggy and the correct backward, the loop reference and above all the central-difference gradient
check takes up to about a second at the largest settings; a rerun with the same settings and bug (a click on the
sample selector, presenter mode, another session opening the same link) now reuses the result. The caches are
bounded and shared between sessions, so their arrays are made read-only.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ..bugs import BUGS, BugCheck, BugRun, buggy_backward, check_bug, live_check
from ..figures.bug_figure import bug_figure
from .housekeeping import register_releaser
from .page import build_arrays
from .settings import Settings

LAB_ENTRIES = 16  # settings x bug combinations kept (about 1 MB each at the largest settings)
SPINNER = "Running the buggy code and estimating the gradient by central differences…"


@dataclass(frozen=True)
class BugLab:
    """Everything the page shows for one settings and bug, computed once."""

    run: BugRun
    exposed: bool  # whether these settings make the buggy dx differ
    live_ok: bool  # the bug's method with the bug off equals the loop definition
    live_line: str
    check: BugCheck


def _readonly(*arrays: np.ndarray | None) -> None:
    for a in arrays:
        if isinstance(a, np.ndarray):
            a.flags.writeable = False


@st.cache_resource(max_entries=LAB_ENTRIES, show_spinner=SPINNER)
def bug_lab(settings: Settings, bug_id: str) -> BugLab:
    """The bug switched on and off in the engine's code, the live check and the gradient check, for the settings.

    Shared read-only between sessions (st.cache_resource, at most LAB_ENTRIES entries); shows a spinner while it
    computes. Raises ValueError for settings that make no valid layer (pages check that first).
    """
    a, spec = build_arrays(settings), settings.spec()
    run = buggy_backward(bug_id, a.dout, a.x, a.w, spec)
    _readonly(run.dx, run.dw, run.db, run.dx_ok)
    ok, line = live_check(run, a.dout, a.x, a.w, spec)
    check = check_bug(run, a.x, a.w, a.dout, spec)
    return BugLab(run, BUGS[bug_id].exposed(spec, a.w), ok, line, check)


@st.cache_resource(max_entries=LAB_ENTRIES, show_spinner=False)
def bug_lab_figure(settings: Settings, bug_id: str, n: int, c: int, width: int = 900, cell_px: int = 44) -> go.Figure:
    """Correct vs buggy dx of sample n, input channel c, for a page column `width` pixels wide (shared between
    sessions: do not modify it)."""
    run = bug_lab(settings, bug_id).run
    return bug_figure(run.dx_ok[n, c], run.dx_aligned[n, c], run.wrong_mask[n, c], cell_px=cell_px, width=width)


def release_lab_caches() -> None:
    """Drop the bug lab's shared caches (the housekeeping thread calls this once the app has been idle a while)."""
    bug_lab.clear()
    bug_lab_figure.clear()


register_releaser(release_lab_caches)
