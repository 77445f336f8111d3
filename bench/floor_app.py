"""The latency floor: a bare Streamlit app, one control -> one Plotly heatmap with numbers, nothing else.

bench/latency.py times this app beside convviz in the same run, so a page's latency can be read as a ratio to
the least any Streamlit + Plotly app can cost on this machine. The heatmap is the size of convviz's default
output (6x6 with the numbers drawn), with the same kind of control the benchmark drives in convviz (a number
input, typed + Enter) and, as the issue asks, a slider (kept for a manual check: Streamlit debounces slider
drags, which would make the floor slower than it is).

Run on its own:  streamlit run bench/floor_app.py
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

SIZE = 6  # cells per side, like convviz's default 6x6 input

seed = st.sidebar.number_input("seed", min_value=0, max_value=9999, value=0, step=1)
shift = st.sidebar.slider("shift", min_value=0, max_value=20, value=0)
z = np.random.default_rng(int(seed)).integers(-9, 10, size=(SIZE, SIZE)) + shift  # (SIZE, SIZE)
fig = go.Figure(go.Heatmap(z=z, texttemplate="%{z}", colorscale="RdBu", zmid=0))
fig.update_layout(width=360, height=360, margin=dict(l=20, r=20, t=20, b=20))
st.plotly_chart(fig, theme=None, width="content")
