"""The gradient check's sample: as many central-difference estimates as fit a time budget, computed once per settings
with a progress bar, then served from a small shared store."""
from __future__ import annotations

import time

import streamlit as st

from ..traces.base import Trace
from .context import CACHE_ENTRIES, build_arrays
from .settings import Settings

GRADCHECK_BUDGET = 600  # numeric estimates per array at most (each costs two forward passes)
GRADCHECK_SECONDS = 0.5  # and about this much time in all (~0.5 s at the largest settings), so a first visit stays quick


def gradcheck_entries(settings: Settings, timings: int = 3) -> int:
    """Estimates per array that fit GRADCHECK_SECONDS, from the time of a forward pass here and now.

    The first pass at new settings is not timed: it builds im2col's index arrays and touches new memory, so it is
    several times slower than the passes the check makes. The fastest of `timings` warm passes is used.
    """
    from ..conv import conv2d_spec

    a, spec = build_arrays(settings), settings.spec()
    conv2d_spec(a.x, a.w, a.b, spec, "im2col")  # warm-up, untimed
    best = float("inf")
    for _ in range(max(1, timings)):
        t = time.perf_counter()
        conv2d_spec(a.x, a.w, a.b, spec, "im2col")
        best = min(best, time.perf_counter() - t)
    per_forward = max(best, 1e-5)
    return int(min(GRADCHECK_BUDGET, max(20, GRADCHECK_SECONDS / (2 * per_forward) / 3)))


@st.cache_resource(max_entries=8, show_spinner=False)
def gradcheck_store() -> dict:
    """A small shared store of finished gradient checks (bounded below), keyed on settings and selection."""
    return {}


def gradcheck_trace_cached(settings: Settings, n: int, f: int) -> Trace:
    """The gradient-check trace, computed once per settings with a progress bar, then served from the store."""
    from ..traces import gradcheck_trace

    store = gradcheck_store()
    key = (settings, n, f)
    if key not in store:
        a = build_arrays(settings)
        bar = st.progress(0.0, text="Estimating gradients by central differences…")
        trace = gradcheck_trace(a.x, a.w, a.b, a.dout, settings.spec(), n=n, f=f, max_entries=gradcheck_entries(settings),
                                progress=lambda frac: bar.progress(min(1.0, frac), text=f"Central differences: {frac:.0%}"))
        bar.empty()
        while len(store) >= CACHE_ENTRIES:
            store.pop(next(iter(store)))
        store[key] = trace
    return store[key]
