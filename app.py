"""convviz: how a convolution layer computes, forward and backward, step by step with the real numbers.

Entry point: `streamlit run app.py`. Sets up the page, the shared controls (mirrored in the URL) and the
navigation; each page in pages/ is a short script that draws one stage.
"""
import streamlit as st

from convviz.ui.controls import render_sidebar, url_notes
from convviz.ui.shell import ensure_app_navigation, navigation

st.set_page_config(page_title="convviz: convolution, forward and backward", page_icon="🧮", layout="wide")
ensure_app_navigation()
page = navigation()
st.session_state["cv_settings"] = render_sidebar()
for note in url_notes():
    st.warning(f"Link setting ignored: {note}")
page.run()
