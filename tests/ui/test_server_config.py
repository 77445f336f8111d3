"""The server settings the deployment depends on, read the way Streamlit reads them (.streamlit/config.toml in the
directory `streamlit run app.py` starts from)."""
from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _config() -> dict:
    return tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())


def test_no_full_garbage_collection_after_every_run():
    """Streamlit's default gc.collect(2) after each script run holds the GIL over every tracked object; under a
    class's load every session queued behind it (bench/load.py: server CPU per interaction 0.26 -> 0.10 s)."""
    assert _config()["runner"]["postScriptGC"] is False


def test_streamlit_accepts_the_file():
    """Every key in the file is an option Streamlit knows (a misspelt key would be silently ignored)."""
    from streamlit import config

    known = set(config._config_options_template)
    for section, values in _config().items():
        for key in values:
            assert f"{section}.{key}" in known, f"{section}.{key} is not a Streamlit option"
