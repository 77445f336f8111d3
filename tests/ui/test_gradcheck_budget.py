"""The gradient check's sample size: entries that fit its time budget, judged on warm forward passes."""
import time

import convviz.conv
from convviz.ui import page
from convviz.ui.settings import LARGEST_QUERY, parse_query


def test_the_sample_is_sized_on_warm_passes_not_the_first_one_at_new_settings(monkeypatch):
    """A clock that the forward pass moves: 200 ms for the first pass at new settings (index arrays built, memory
    touched), 1 ms for each pass after it. Sized on warm passes, the budget fits about 166 entries per array; timing
    the first pass (as the page once did) gave the floor of 20."""
    clock = [0.0]
    passes = []

    def forward(*args, **kwargs):
        passes.append(args[3])
        clock[0] += 0.2 if len(passes) == 1 else 0.001

    monkeypatch.setattr(time, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(convviz.conv, "conv2d_spec", forward)
    settings, _ = parse_query(LARGEST_QUERY)
    expected = int(page.GRADCHECK_SECONDS / (2 * 0.001) / 3)
    assert page.gradcheck_entries(settings) == expected
    assert 20 < expected < page.GRADCHECK_BUDGET  # the test distinguishes the floor, the estimate and the cap
    assert len(passes) == 4 and all(spec == settings.spec() for spec in passes)
