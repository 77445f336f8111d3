"""Housekeeping: the thread starts once per process, calls glibc's malloc_trim, and drops the caches when idle."""
import threading

from convviz.ui import housekeeping


def trimmer_threads():
    return [t for t in threading.enumerate() if t.name == "convviz-malloc-trim"]


def test_trimmer_starts_once_and_runs_in_the_background():
    assert housekeeping.start_memory_trimmer(period=3600) is True  # this machine's C library is glibc
    assert housekeeping.start_memory_trimmer(period=3600) is True
    threads = trimmer_threads()
    assert len(threads) == 1 and threads[0].daemon and threads[0].is_alive()


def test_malloc_trim_is_callable():
    trim = housekeeping._malloc_trim()
    assert trim is not None
    assert trim(0) in (0, 1)  # 1: memory was released, 0: there was none to release


def test_idle_release_runs_once_per_idle_spell_and_not_while_active(monkeypatch):
    calls = []
    monkeypatch.setattr(housekeeping, "_releasers", [lambda: calls.append("a"), lambda: 1 / 0, lambda: calls.append("b")])
    housekeeping.touch(now=1000.0)
    assert housekeeping.release_if_idle(120, now=1100.0) is False  # 100 s idle: still in use
    assert calls == []
    assert housekeeping.release_if_idle(120, now=1121.0) is True  # a failing releaser does not stop the others
    assert calls == ["a", "b"]
    assert housekeeping.release_if_idle(120, now=1500.0) is False  # once per idle spell
    housekeeping.touch(now=1600.0)
    assert housekeeping.release_if_idle(120, now=1650.0) is False
    assert housekeeping.release_if_idle(120, now=1721.0) is True
    assert calls == ["a", "b", "a", "b"]


def test_register_releaser_keeps_one_of_each(monkeypatch):
    monkeypatch.setattr(housekeeping, "_releasers", [])

    def release():
        pass

    housekeeping.register_releaser(release)
    housekeeping.register_releaser(release)
    assert housekeeping._releasers == [release]


def test_idle_seconds_comes_from_the_environment_and_ignores_bad_values(monkeypatch):
    monkeypatch.delenv(housekeeping.IDLE_ENV, raising=False)
    assert housekeeping.idle_seconds() == housekeeping.IDLE_SECONDS_DEFAULT
    for raw, want in (("30", 30.0), ("abc", 120.0), ("-5", 120.0), ("0", 120.0), ("inf", 120.0), ("nan", 120.0)):
        monkeypatch.setenv(housekeeping.IDLE_ENV, raw)
        assert housekeeping.idle_seconds() == want, raw


def test_the_pages_caches_are_registered_and_really_dropped():
    """page.py and bug_lab.py register their caches; after a release the next request recomputes (a new object)."""
    from convviz.ui import bug_lab, page
    from convviz.ui.settings import Settings

    assert page.release_caches in housekeeping._releasers
    assert bug_lab.release_lab_caches in housekeeping._releasers
    s = Settings()
    trace, arrays = page.get_trace("forward", s), page.build_arrays(s)
    assert page.get_trace("forward", s) is trace  # cached
    lab = bug_lab.bug_lab(s, next(iter(bug_lab.BUGS)))
    page.release_caches()
    bug_lab.release_lab_caches()
    assert page.get_trace("forward", s) is not trace and page.build_arrays(s) is not arrays
    assert bug_lab.bug_lab(s, next(iter(bug_lab.BUGS))) is not lab


BLAS_PROBE = r"""
import json, sys
import numpy
from threadpoolctl import threadpool_info

def blas():
    return sorted({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})

before = blas()
if sys.argv[1] == "app":
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file("app.py", default_timeout=60).run()
    assert not at.exception, at.exception
    calls = []
else:
    from convviz.ui.housekeeping import limit_blas_threads
    calls = [limit_blas_threads(), limit_blas_threads()]
print(json.dumps({"before": before, "after": blas(), "calls": calls}))
"""


def blas_probe(mode: str, **env: str) -> dict:
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    # OpenBLAS takes its default thread count from this variable when it loads: 2, whatever the machine's cores.
    environ = {k: v for k, v in os.environ.items() if k not in (housekeeping.BLAS_ENV, "OMP_NUM_THREADS")}
    environ.update(OPENBLAS_NUM_THREADS="2", **env)
    out = subprocess.run([sys.executable, "-c", BLAS_PROBE, mode], cwd=repo, env=environ, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_app_runs_numpys_blas_on_one_thread():
    """A fresh process: NumPy's OpenBLAS starts on 2 threads; one run of app.py leaves it on 1 for the process."""
    got = blas_probe("app")
    assert got["before"] == [2] and got["after"] == [1]


def test_limit_blas_threads_once_per_process_from_the_environment():
    assert blas_probe("call") == {"before": [2], "after": [1], "calls": [1, None]}
    assert blas_probe("call", CONVVIZ_BLAS_THREADS="2") == {"before": [2], "after": [2], "calls": [2, None]}
    assert blas_probe("call", CONVVIZ_BLAS_THREADS="many") == {"before": [2], "after": [1], "calls": [1, None]}
