"""Shared test set-up."""
import sys

import pytest


@pytest.fixture(autouse=True)
def _fresh_streamlit_caches():
    """AppTest instances in one process share st.cache_data / st.cache_resource: start every test clean.

    Streamlit is imported only if a test already loaded it, so engine-only runs stay light.
    """
    st = sys.modules.get("streamlit")
    if st is not None:
        st.cache_data.clear()
        st.cache_resource.clear()
    yield
