"""The README's promises hold: two one-line set-up commands, CI runs the documented test command, pins stay pinned."""
import os
import re
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
CI = ROOT / ".ci" / "run"


def bash_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)```", README, re.S)


def test_readme_has_exactly_two_one_line_setup_commands():
    blocks = bash_blocks()
    assert len(blocks) == 2, blocks
    assert all(len(b.strip().splitlines()) == 1 for b in blocks), blocks
    run_app, run_tests = (b.strip() for b in blocks)
    assert run_app == "pip install -r requirements.txt && streamlit run app.py"
    assert run_tests.startswith("python -m pip install -r requirements-dev.txt && python -m pytest")


def test_ci_runs_the_readme_test_command_last():
    script = CI.read_text()
    assert script.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in script
    assert os.access(CI, os.X_OK), ".ci/run must be executable"
    commands = [line for line in script.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert commands[-1] == bash_blocks()[1].strip(), "the last command of .ci/run must be the README's test command"
    assert "chromium" in script and "fonts-noto-color-emoji" in script and "nginx" in script


def test_requirements_pin_what_must_stay_pinned():
    runtime = (ROOT / "requirements.txt").read_text().splitlines()
    dev = (ROOT / "requirements-dev.txt").read_text().splitlines()
    assert "streamlit>=1.67,<1.68" in runtime  # the deep-link guard relies on 1.67 internals
    assert "-r requirements.txt" in dev
    torch = [line for line in dev if line.startswith("torch")]
    assert torch == ["torch==2.13.0"], "an unpinned torch pulls gigabytes of CUDA packages"
    for name in ("pytest", "pytest-xdist", "pytest-timeout", "hypothesis", "playwright", "ruff"):
        assert any(re.match(rf"{name}\b(?!-)", line) for line in dev), name
    assert version("streamlit").startswith("1.67."), "tests run against the Streamlit the app is pinned to"


def test_readme_engine_example_runs():
    code = re.search(r"## The engine\n\n```python\n(.*?)```", README, re.S).group(1)
    ns: dict = {}
    exec(compile(code, "README.md", "exec"), ns)
    assert ns["y"].shape == (2, 4, 4, 4) and ns["dx"].shape == ns["x"].shape
    assert all(c.max_rel_error < 1e-6 for c in ns["checks"])
