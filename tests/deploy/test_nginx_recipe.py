"""The multi-process deployment recipe, run for real: two app processes behind Debian's nginx (deploy/nginx.conf.template).

A CI-sized run of `bench/load.py --behind-nginx`: 4 concurrent browser sessions (Debian chromium) on a cold pair of
backends, one round each (open a deep link with its own settings, switch page, change a setting). Asserts what the
recipe promises: no session ever sees another's settings or an error, every session's requests (page loads, static
files, the websocket) stay on one backend, and new browsers are spread over both backends.

Needs /usr/sbin/nginx (CI: apt-get install nginx) and /usr/bin/chromium; a missing one fails the test, it never skips.
"""
from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LOAD = REPO / "bench" / "load.py"
NGINX = "/usr/sbin/nginx"
SESSIONS = 4
BUDGET_S = 90.0


def _require_tools() -> None:
    if not Path(NGINX).exists():
        pytest.fail(f"{NGINX} is missing: the deployment recipe needs Debian's nginx (apt-get install -y nginx).", pytrace=False)
    if not Path("/usr/bin/chromium").exists():
        pytest.fail("/usr/bin/chromium is missing (apt-get install chromium).", pytrace=False)


def _load_module():
    spec = importlib.util.spec_from_file_location("convviz_bench_load", LOAD)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # its dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def test_template_fills_and_nginx_accepts_it(tmp_path):
    """The template with two upstreams: every placeholder filled, and `nginx -t` accepts the result."""
    _require_tools()
    load = _load_module()
    tmp_path.chmod(0o755)
    conf = tmp_path / "nginx.conf"
    conf.write_text(load.nginx_conf(tmp_path, "127.0.0.1:18080", [18501, 18502]))
    text = conf.read_text()
    assert "@@" not in text
    upstream = re.search(r"upstream convviz \{(.*?)\}", text, re.S).group(1)
    assert "hash $convviz_key consistent;" in upstream
    assert re.findall(r"server 127\.0\.0\.1:(\d+);", upstream) == ["18501", "18502"]
    check = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log")],
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr


def test_two_backends_behind_nginx_hold_concurrent_sessions(tmp_path):
    _require_tools()
    out = tmp_path / "report.json"
    cmd = [sys.executable, str(LOAD), "--behind-nginx", "--backends", "2", "--sessions", str(SESSIONS), "--rounds", "1",
           "--think", "0.2", "--settle", "1", "--no-warmup", "--json", str(out)]
    t = time.monotonic()
    run = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=BUDGET_S + 60)
    elapsed = time.monotonic() - t
    assert out.exists(), f"bench/load.py wrote no report (exit {run.returncode}):\n{run.stdout}\n{run.stderr[-3000:]}"
    report = json.loads(out.read_text())
    assert report["failures"] == [], "\n".join(report["failures"]) + "\n" + run.stdout
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    # Every session did its three interactions (open, navigate, setting), each followed by its checks.
    assert report["interactions"] == 3 * SESSIONS
    assert report["latency_s"]["all"]["n"] == 3 * SESSIONS
    assert report["checks"] >= 9 * 3 * SESSIONS
    nginx = report["nginx"]
    # Sticky: each session's requests all went to one backend (load.py checks the access log per cookie).
    assert nginx["sticky_sessions"] == SESSIONS
    assert sum(nginx["sessions_per_backend"].values()) == SESSIONS
    # Spread: of 64 new browsers (cookie-less requests) each backend got some; all on one has probability 2^-63.
    assert len(nginx["probes_per_backend"]) == 2
    assert all(n > 0 for n in nginx["probes_per_backend"].values()), nginx
    assert sum(nginx["probes_per_backend"].values()) == nginx["probes"]
    assert elapsed < BUDGET_S, f"the recipe run took {elapsed:.0f} s (budget {BUDGET_S:.0f} s)"
