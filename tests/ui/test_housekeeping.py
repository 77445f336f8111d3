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
