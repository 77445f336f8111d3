"""The Methods & speed page's own inputs and result tables (the timing itself is convviz.timing).

The page has its own sizes, larger than the sidebar's teaching caps: timing a 6x6 input says nothing.
Caps keep one run to a few seconds on a small shared server (see convviz.timing for the work budget).
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ..timing import TORCH, TimingReport
from .page import escape_md

REPORT_KEY = "cv_methods_report"
RUN_KEY = "cv_methods_requested"
# Absolute: values are sums of at most 32*7*7 = 1568 products of N(0, 1) numbers (|y| ~ 40), so float64
# rounding stays near 1e-12; a wrong index is off by ~1.
AGREE_TOLERANCE = 1e-6


@dataclass(frozen=True)
class SizeField:
    key: str  # widget key suffix, e.g. "h" -> cv_methods_h
    label: str
    default: int
    low: int
    high: int


SIZE_FIELDS = (
    SizeField("n", "N (batch)", 2, 1, 8),
    SizeField("c", "C (in channels)", 8, 1, 32),
    SizeField("h", "H (height)", 32, 1, 128),
    SizeField("w", "W (width)", 32, 1, 128),
    SizeField("f", "F (out channels)", 8, 1, 32),
    SizeField("kh", "KH (kernel)", 3, 1, 7),
    SizeField("kw", "KW (kernel)", 3, 1, 7),
    SizeField("stride", "stride", 1, 1, 4),
    SizeField("dilation", "dilation", 1, 1, 4),
)
PADDING_CHOICES = ("same", "valid", "full", "1", "2", "3")


def request_run() -> None:
    """Run button callback: remember the press until the script consumes it."""
    st.session_state[RUN_KEY] = True


def padding_arg(choice: str) -> str | int:
    """A padding choice as the engine takes it: a mode name or a symmetric int."""
    return int(choice) if choice.isdigit() else choice


def size_inputs() -> dict[str, int | str]:
    """The sizes to time, as number inputs in two rows, plus the padding choice."""
    values: dict[str, int | str] = {}
    first, second = SIZE_FIELDS[:5], SIZE_FIELDS[5:]
    for row in (first, second):
        cols = st.columns(len(row) + (1 if row is second else 0))
        for col, field in zip(cols, row):
            values[field.key] = int(col.number_input(field.label, min_value=field.low, max_value=field.high,
                                                     value=field.default, step=1, key=f"cv_methods_{field.key}"))
        if row is second:
            values["padding"] = cols[-1].selectbox("padding", PADDING_CHOICES, key="cv_methods_padding",
                                                   help="'same' keeps H x W at stride 1; a number pads every side.")
    return values


def timing_rows(report: TimingReport) -> list[dict]:
    """One dict per method and pass: time, runs, ratios, agreement (numbers, not yet formatted)."""
    rows = []
    for t in report.timings:
        loops = next((u for u in report.timings if u.pass_name == t.pass_name and u.method == "loops"), None)
        fastest = report.fastest(t.pass_name)
        rows.append(dict(
            pass_=t.pass_name, method=t.method, seconds=t.seconds, runs=t.runs, max_diff=t.max_diff, note=t.note,
            vs_fastest=(t.seconds / fastest.seconds) if t.seconds and fastest and fastest.seconds else None,
            speedup=(loops.seconds / t.seconds) if t.seconds and loops and loops.seconds else None,
            reference=report.reference_of(t.pass_name),
        ))
    for r in rows:  # the chart's field names
        r["pass"] = r["pass_"]
    return rows


def _fmt_time(s: float | None) -> str:
    if s is None:
        return "not run"
    return f"{s * 1e3:.3f} ms" if s < 1 else f"{s:.2f} s"


def ratio_text(x: float) -> str:
    """A speed ratio with two significant digits (0.41x, 3.1x, 46x), whole above 100 (1,234x): a method slower than
    the loops must not read '0x'."""
    return f"{x:,.0f}x" if x >= 100 else f"{x:.2g}x"


def timing_table(rows: list[dict]) -> list[dict]:
    """Rows for st.table, every string escaped (st.table renders Markdown in cells)."""
    out = []
    for r in rows:
        method = r["method"] + (" (optional)" if r["method"] == TORCH else "")
        out.append({
            "pass": r["pass_"],
            "method": escape_md(method),
            "best time": _fmt_time(r["seconds"]),
            "runs": r["runs"],
            "time / fastest": f"{r['vs_fastest']:.1f}x" if r["vs_fastest"] is not None else "—",
            "speed-up over loops": ratio_text(r["speedup"]) if r["speedup"] is not None else "—",
            "max |diff| vs reference": (
                "reference" if r["method"] == r["reference"] else
                (f"{r['max_diff']:.1e}" if r["max_diff"] is not None else "—")),
            "note": escape_md(r["note"]),
        })
    return out


def agreement_lines(report: TimingReport) -> list[tuple[bool, str]]:
    """One line per pass: do all methods that ran agree with the pass's reference?"""
    lines = []
    for pass_name, ref in report.references:
        ran = [t for t in report.timings if t.pass_name == pass_name and t.max_diff is not None and t.method != ref]
        worst = max((t.max_diff for t in ran), default=0.0)
        ok = worst <= AGREE_TOLERANCE
        names = ", ".join(t.method for t in ran)
        what = "dx, dw and db" if pass_name == "backward" else "y"
        lines.append((ok, f"{pass_name}: {names} agree with {ref} on {what}: max |diff| = {worst:.1e}"
                          + ("" if ok else f", over the tolerance {AGREE_TOLERANCE:.0e}")))
    return lines
