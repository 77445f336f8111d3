"""Server housekeeping: hand freed memory back to the operating system.

A Streamlit server runs every session's script in its own thread, and glibc's allocator gives each busy thread
an arena of its own. When a class leaves, Python frees the sessions' arrays and figures, but glibc keeps most of
the freed pages mapped in those arenas, so the process's resident memory stays near its peak although the
caches are bounded. `malloc_trim(0)` releases the free pages of every arena. A daemon thread calls it every
`period` seconds (a few milliseconds each time); on a C library without it (musl, macOS) nothing happens.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import threading
import time

_lock = threading.Lock()
_thread: threading.Thread | None = None


def _malloc_trim():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def start_memory_trimmer(period: float = 20.0) -> bool:
    """Start the trimming thread once per process; returns whether one is running."""
    global _thread
    with _lock:
        if _thread is None:
            trim = _malloc_trim()
            if trim is None:
                return False

            def loop() -> None:
                while True:
                    time.sleep(period)
                    trim(0)

            _thread = threading.Thread(target=loop, name="convviz-malloc-trim", daemon=True)
            _thread.start()
    return True
