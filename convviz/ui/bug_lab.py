"""The Bug lab page's computations, cached on the settings and the bug (pages/bug_lab.py draws them).

Each bug runs on its kind's layer, built from the settings as the page of that layer builds it (`bug_case`): the
convolution's (Settings.spec, with its groups), the transposed convolution page's (Settings.transposed, groups 1,
kernels in the (CIN, COUT, KH, KW) layout), the pooling page's (convviz.stages.pooling_of, its own upstream gradient)
or the network page's (convviz.stages.network_of: the stack `net` on the sidebar's input x, its weights
init_params(planned, seed, x) as the network page makes them, and a random upstream gradient of its output's shape,
so that many cells of dx show).

Running the buggy and the correct code, the reference and above all the central-difference check takes up to about a
second at the largest settings; a rerun with the same settings and bug (a click on the sample selector, presenter mode,
another session opening the same link) reuses the result. The caches are bounded and shared between sessions, so
their arrays are made read-only.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ..bugs import BUGS, BugCase, BugCheck, BugRun, check_bug, live_check, run_bug
from ..data import make_dout
from ..figures.bug_figure import bug_figure
from ..network import init_params
from ..stages import POOL_DOUT_SEED, network_of, pooling_of, transposed_weights
from .housekeeping import register_releaser
from .page import build_arrays
from .settings import Settings, parse_query, to_query

LAB_ENTRIES = 16  # settings x bug combinations kept (about 1 MB each at the largest settings)
SPINNER = "Running the buggy code and checking it against an independent estimate…"


def bug_case(settings: Settings, bug_id: str) -> BugCase:
    """The layer and arrays the bug's code runs on, for these settings (see the module docstring).

    Raises ValueError (with a fix) when the settings make no layer of the bug's kind."""
    kind = BUGS[bug_id].kind
    if kind == "transposed":
        plain = settings.with_(groups=1)  # the transposed convolution page draws groups = 1
        tspec = plain.transposed()
        a = build_arrays(plain)
        return BugCase(tspec, a.x, transposed_weights(a))
    if kind == "network":
        ns = network_of(settings)  # NetError (a ValueError) names the layer that does not fit and the fix
        x = build_arrays(settings).x
        return BugCase(ns, x, None, make_dout(ns.output_shape, settings.seed), params=init_params(ns.planned, settings.seed, x))
    spec = settings.spec()
    a = build_arrays(settings)
    if kind == "avgpool":
        if spec.dilation != (1, 1):
            raise ValueError(f"dilation: average pooling has none (PyTorch's avg_pool2d takes no dilation), and these "
                             f"settings have {spec.dilation}. Set DH and DW to 1.")
        ps = pooling_of(spec)
        return BugCase(ps, a.x, None, make_dout(ps.output_shape, POOL_DOUT_SEED), settings.cip == "true")
    if kind == "grouped":
        return BugCase(spec, a.x, a.w)
    return BugCase(spec, a.x, a.w, a.dout)


def exposing_settings(settings: Settings, bug_id: str) -> Settings:
    """The settings with the bug's `expose` changes (validated as a URL's); the defaults with them when the changed
    settings still make no layer for the bug."""
    expose = dict(BUGS[bug_id].expose)
    merged, _ = parse_query({**to_query(settings), **expose})
    try:
        bug_case(merged, bug_id)
    except ValueError:
        return parse_query(expose)[0]
    return merged


def layer_line(case: BugCase, kind: str) -> str:
    """The layer the bug's code runs on, with the user's numbers (plain text)."""
    s = case.spec
    if kind == "transposed":
        return (f"Transposed layer: x' {s.input_shape} · w {s.weight_shape} (CIN, COUT, KH, KW) · stride {s.stride} · "
                f"padding p {s.padding} · output padding a {s.output_padding} · dilation {s.dilation} → y' {s.output_shape}")
    if kind == "network":
        shapes = " → ".join(f"{p.layer.token} {p.out_shape}" for p in s.planned)
        return f"Network {s.text}: x {s.input_shape} → {shapes} · dout random {s.output_shape}"
    if kind == "avgpool":
        return (f"Average pooling: x {s.input_shape} · window {s.kernel_size} · stride {s.stride} · padding "
                f"{(s.top, s.left)} · count_include_pad={case.count_include_pad} → {s.output_shape}")
    return (f"Convolution: x {s.input_shape} · w {s.weight_shape} · groups {s.groups} · stride {s.stride} · "
            f"padding (t, b, l, r) {s.padding} · dilation {s.dilation} → y {s.output_shape}")


@dataclass(frozen=True)
class BugLab:
    """Everything the page shows for one settings and bug, computed once."""

    run: BugRun
    exposed: bool  # whether these settings make the buggy result differ
    live_ok: bool  # the bug's code with the bug off equals its kind's reference
    live_line: str
    check: BugCheck
    layer: str  # layer_line of the bug's case


def _readonly(*arrays: np.ndarray | None) -> None:
    for a in arrays:
        if isinstance(a, np.ndarray):
            a.flags.writeable = False


@st.cache_resource(max_entries=LAB_ENTRIES, show_spinner=SPINNER)
def bug_lab(settings: Settings, bug_id: str) -> BugLab:
    """The bug switched on and off in the engine's code, the live check and the kind's check, for the settings.

    Shared read-only between sessions (st.cache_resource, at most LAB_ENTRIES entries); shows a spinner while it
    computes. Raises ValueError for settings that make no layer of the bug's kind (the page says so).
    """
    bug = BUGS[bug_id]
    case = bug_case(settings, bug_id)
    run = run_bug(bug_id, case)
    _readonly(run.result, run.dw, run.db, run.result_ok)
    ok, line = live_check(run, case)
    check = check_bug(run, case)
    return BugLab(run, bug.exposed_in(case), ok, line, check, layer_line(case, bug.kind))


@st.cache_resource(max_entries=LAB_ENTRIES, show_spinner=False)
def bug_lab_figure(settings: Settings, bug_id: str, n: int, c: int, width: int = 900, cell_px: int = 44) -> go.Figure:
    """Correct vs buggy result (dx, y' or y) of sample n, channel c, for a page column `width` pixels wide (shared
    between sessions: do not modify it)."""
    run = bug_lab(settings, bug_id).run
    return bug_figure(run.result_ok[n, c], run.aligned[n, c], run.wrong_mask[n, c], cell_px=cell_px, width=width,
                      name=run.name)


def release_lab_caches() -> None:
    """Drop the bug lab's shared caches (the housekeeping thread calls this once the app has been idle a while)."""
    bug_lab.clear()
    bug_lab_figure.clear()


register_releaser(release_lab_caches)
