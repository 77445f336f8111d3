"""The memory trimmer starts once per process and really calls glibc's malloc_trim."""
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
