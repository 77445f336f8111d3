"""The app shell: page list and the guard that keeps deep links working with a folder named pages/.

Why the guard: when a folder literally named `pages/` sits beside the entry script, Streamlit 1.67 starts
the process in its legacy multipage mode (PagesManager.uses_pages_directory is True until some script calls
st.navigation). In that mode the very first run of a deep link such as /forward executes pages/forward.py
on its own, without app.py: no navigation and no shared controls, so the page came up empty. The guard
switches the legacy mode off and reruns, so app.py (and its st.navigation) always runs first. The rerun
keeps the requested page only if the legacy mode found it, and the legacy mode looks pages up by file stem:
so every page's url_path equals its file's stem (input_gradient, not input-gradient; convviz/stages.py's PAGES).

The default page by name: st.navigation serves its default page (the first of PAGES, Shapes) at the root URL
only. Its public pathname is "" (StreamlitPage.url_path returns "" for the default page), so a request for
/shapes matches no page and Streamlit shows "Page not found" (and drops the settings from the link) -- except on
a fresh server's first session, where the legacy mode happens to find pages/shapes.py by its stem. Shared links
to /shapes?... are common (the "Link to this view" of a session opened at /shapes says /shapes), so
`open_default_page_by_name` resolves /shapes to the default page before st.navigation looks it up. The browser
then shows the default page's canonical address, the root with the same query: /?h=9.
"""
from __future__ import annotations

import sys

import streamlit as st

from ..stages import PAGES


def _in_legacy_run() -> bool:
    """Whether this script run is Streamlit's legacy pages/ run (its `_mpa_v1` runs the page without app.py).

    The class flag alone is not enough: when several first sessions start at once (a class opening a link on a
    fresh server), another session can switch the flag off while this run is already inside its page.
    """
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "_mpa_v1" and "streamlit" in frame.f_code.co_filename:
            return True
        frame = frame.f_back
    return False


def ensure_app_navigation() -> None:
    """Leave Streamlit's legacy pages/ mode before anything renders (see the module docstring)."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory or _in_legacy_run():
        PagesManager.uses_pages_directory = False
        st.rerun()


def _check_paths() -> None:
    for p in PAGES:
        assert p.path == f"pages/{p.url_path}.py", f"url_path {p.url_path!r} must equal the file stem of {p.path}"


_check_paths()


def open_default_page_by_name() -> bool:
    """Make a request for /shapes (the default page's url_path) open the default page, not "Page not found".

    The script runner records what the browser asked for as the run's intent: a page hash (from a click in the
    navigation or a rerun) or, for a typed or shared URL, the page name taken from the path. st.navigation looks
    the name up among the pages' public pathnames, where the default page's is "" (see the module docstring).
    An empty intent is what the root URL sends, and it resolves to the default page. Returns whether it helped.
    """
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    manager = getattr(ctx, "pages_manager", None)
    if manager is None or manager.intended_page_script_hash:
        return False
    name = (manager.intended_page_name or "").strip("/")
    if name != PAGES[0].url_path:
        return False
    manager.set_script_intent("", "")
    return True


def navigation():
    """st.navigation over PAGES; the first page is the default (the app's root URL, and /shapes as well)."""
    pages = [st.Page(p.path, title=p.title, url_path=p.url_path, icon=p.icon, default=(i == 0))
             for i, p in enumerate(PAGES)]
    open_default_page_by_name()
    return st.navigation(pages, position="sidebar", expanded=True)  # every page listed (not "View 3 more")
