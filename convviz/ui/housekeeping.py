"""Server housekeeping: drop the shared caches when the app has been idle, and hand freed memory back to the OS.

A class fills the shared caches (traces, arrays, figures, bug labs; each bounded, see page.py) with what the
students looked at. Bounded is not enough for a teacher's server: when the class has left, that memory would stay
taken until the next class replaces it. So every run calls `touch()`, and when no run has happened for
`idle_seconds` (CONVVIZ_IDLE_RELEASE_S, default 120 s) the registered releasers clear the caches, once per idle
spell. The next visitor recomputes what they look at (tens of milliseconds a page; the gradient check up to ~1 s).

glibc's allocator gives each busy script thread an arena of its own and keeps freed pages mapped in them, so the
process's resident memory would stay near its peak even with the caches empty. `malloc_trim(0)` releases the free
pages of every arena. One daemon thread does both every `period` seconds (a few milliseconds each time); on a C
library without malloc_trim (musl, macOS) only the caches are dropped.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import os
import threading
import time
from collections.abc import Callable

_lock = threading.Lock()
_thread: threading.Thread | None = None
_has_trim = False  # set with _thread: whether the C library has malloc_trim
_releasers: list[Callable[[], None]] = []
_last_run = time.monotonic()
_released = True  # nothing cached before the first run

IDLE_ENV = "CONVVIZ_IDLE_RELEASE_S"
IDLE_SECONDS_DEFAULT = 120.0


def idle_seconds() -> float:
    """Idle time after which the caches are dropped (CONVVIZ_IDLE_RELEASE_S; a bad value means the default)."""
    try:
        value = float(os.environ.get(IDLE_ENV, IDLE_SECONDS_DEFAULT))
    except ValueError:
        return IDLE_SECONDS_DEFAULT
    return value if value > 0 and value != float("inf") else IDLE_SECONDS_DEFAULT


def _malloc_trim():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def register_releaser(release: Callable[[], None]) -> None:
    """Call `release` (e.g. a cache's clear) when the app has been idle; registering twice is a no-op."""
    with _lock:
        if release not in _releasers:
            _releasers.append(release)


def touch(now: float | None = None) -> None:
    """Record activity (a script run): the caches are in use."""
    global _last_run, _released
    _last_run = time.monotonic() if now is None else now
    _released = False


def release_if_idle(idle: float, now: float | None = None) -> bool:
    """Run every releaser if there has been no activity for `idle` seconds and they have not run since the last
    activity; returns whether they ran."""
    global _released
    now = time.monotonic() if now is None else now
    with _lock:
        if _released or now - _last_run < idle:
            return False
        _released = True
        releasers = list(_releasers)
    for release in releasers:
        with contextlib.suppress(Exception):  # a releaser that fails must not stop the others or the thread
            release()
    gc.collect()
    return True


def start_memory_trimmer(period: float = 10.0) -> bool:
    """Start the housekeeping thread once per process; returns whether malloc_trim is available.

    Called on every run (app.py): after the first call it only reads two globals (finding the C library runs
    ldconfig in a subprocess, so that happens once).
    """
    global _thread, _has_trim
    if _thread is not None:
        return _has_trim
    with _lock:
        if _thread is None:
            trim = _malloc_trim()
            _has_trim = trim is not None

            def loop() -> None:
                while True:
                    time.sleep(period)
                    release_if_idle(idle_seconds())
                    if trim is not None:
                        trim(0)

            _thread = threading.Thread(target=loop, name="convviz-malloc-trim", daemon=True)
            _thread.start()
    return _has_trim


BLAS_ENV = "CONVVIZ_BLAS_THREADS"
_blas_limited: object | None = None  # threadpoolctl's limiter, kept so the limit stays set for the process


def limit_blas_threads() -> int | None:
    """Run NumPy's BLAS on one thread in the app server (CONVVIZ_BLAS_THREADS to change it); once per process.

    The server shares 2 cores with its sessions and, on a teacher's laptop, with the browser. OpenBLAS's default of a
    thread per core then works against itself: with the other core busy, 200 im2col forward passes at the largest
    settings took 0.23-0.42 s on 2 BLAS threads and 0.11-0.12 s on one (about the same on an idle machine;
    `python bench/blas_threads.py`), and the gradient check and the bug lab run hundreds of them. The engine as a
    library (a notebook) keeps NumPy's default.
    Returns the limit set, or None (already set, or threadpoolctl found no BLAS to limit).
    """
    global _blas_limited
    if _blas_limited is not None:  # every run calls this (app.py): after the first, one read and no lock
        return None
    with _lock:
        if _blas_limited is not None:
            return None
        try:
            threads = max(1, int(os.environ.get(BLAS_ENV, "1")))
        except ValueError:
            threads = 1
        from threadpoolctl import threadpool_limits

        _blas_limited = threadpool_limits(limits=threads, user_api="blas")
        return threads
