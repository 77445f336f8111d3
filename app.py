"""convviz: how a convolution layer computes, forward and backward, step by step with the real numbers.

Entry point: `streamlit run app.py`. Sets up the page, the shared controls (mirrored in the URL) and the
navigation; each page in pages/ is a short script that draws one stage.
"""
import re

import streamlit as st

from convviz.stages import PAGE, PAGES
from convviz.ui.controls import (
    LINK_DRAWN,
    PageStop,
    draw_sidebar,
    presenter_in_url,
    session_settings,
    settings_read,
    share_link,
    url_notes,
)
from convviz.ui.housekeeping import limit_blas_threads, start_memory_trimmer, touch
from convviz.ui.page import page_style
from convviz.ui.shell import ensure_app_navigation, navigation

st.set_page_config(page_title="convviz: convolution, forward and backward", page_icon="🧮", layout="wide",
                   initial_sidebar_state="collapsed" if presenter_in_url() else "auto")
ensure_app_navigation()
start_memory_trimmer()
limit_blas_threads()
touch()  # activity: the shared caches are dropped only after CONVVIZ_IDLE_RELEASE_S seconds without any run
page = navigation()
record = PAGE.get(page.url_path, PAGES[0])  # the default page's url_path is "" (convviz/ui/shell.py)
settings = session_settings(record.layer_controls)
st.session_state["cv_settings"] = settings_read(settings, record.layer_controls)  # what the page computes with
st.session_state[LINK_DRAWN] = False
page_style()
for note in url_notes():
    # A note quotes the raw URL value: show it as plain text (every ASCII punctuation mark escaped, so no Markdown
    # link, autolink, emphasis or directive in a crafted link can take effect), on one line.
    plain = re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", " ".join(note.split()))
    st.warning(f"Link setting ignored: {plain}")
try:
    page.run()
except PageStop:
    pass  # the page has explained why it cannot go on (controls.stop_page)
finally:
    if not st.session_state.get(LINK_DRAWN):  # a page with a figure has it beside the figure's downloads
        share_link(settings)
    # The sidebar is drawn after the page, so a change's new chart reaches the browser before the 30-odd sidebar
    # elements (bench/latency.py: change -> chart 206 -> 160 ms on Shapes). `finally`: a page that stops early, or
    # fails, still shows the controls that fix its settings.
    draw_sidebar(record.layer_controls)
