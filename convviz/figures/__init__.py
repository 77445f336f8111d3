"""Plotly figures drawn from engine traces (no Streamlit here, and no arithmetic: traces hold the numbers)."""
from .style import KIND_SCALES, ROLE_COLOURS, ROLE_MEANING
from .trace_figure import trace_figure

__all__ = ["KIND_SCALES", "ROLE_COLOURS", "ROLE_MEANING", "trace_figure"]
