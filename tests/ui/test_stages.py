"""The catalog (convviz/stages.py) agrees with the tree: every page has its file, every stage its page, its section of
the teaching notes, a trace whose panels are the figure's rows, and code a learner can read (public names only)."""
import ast
import inspect
import re
from pathlib import Path

import pytest

from convviz.data import make_bias, make_dout, make_input, make_kernel
from convviz.stages import PAGES, STAGE_LIST, STAGES, TEACHING_NOTES, stages_of
from convviz.traces.base import Trace
from convviz.ui.context import Arrays
from convviz.ui.settings import Settings

REPO = Path(__file__).resolve().parents[2]


SMALL = Settings(h=6, w=5, cin=2, cout=2, pad="custom", pt=1, pb=1, pl=1, pr=1, data="random")


def small_arrays(settings: Settings = SMALL) -> Arrays:
    spec = settings.spec()
    return Arrays(make_input(spec, "random", 0), make_kernel(spec, "random", 0), make_bias(spec, "random", 0),
                  make_dout(spec.output_shape, 0))


def test_every_page_has_its_file_and_every_page_file_a_record():
    listed = {p.path for p in PAGES}
    on_disk = {str(f.relative_to(REPO)) for f in (REPO / "pages").glob("*.py")}
    assert listed == on_disk
    assert len({p.url_path for p in PAGES}) == len(PAGES)


def test_every_stage_has_a_section_in_the_teaching_notes():
    headings = set(re.findall(r"^## (.+?)\s*$", (REPO / TEACHING_NOTES).read_text(), flags=re.M))
    missing = {s.name: s.notes for s in STAGE_LIST if s.notes not in headings}
    assert not missing, f"sections missing from {TEACHING_NOTES}: {missing}"


@pytest.mark.parametrize("stage", STAGE_LIST, ids=lambda s: s.name)
def test_the_record_matches_the_trace_it_builds(stage):
    picks = {k: v for k, v in {"n": 0, "c": 1, "f": 1}.items() if k in stage.options}  # the second channel
    trace = stage.build(stage.layer(SMALL), small_arrays(), **picks)
    assert isinstance(trace, Trace) and trace.stage == stage.name
    names = [p.name for p in trace.panels]
    in_rows = [name for row in stage.rows_of(trace) for name in row]
    if stage.rows:  # every panel in exactly one row (a function of the trace, or fixed)
        assert sorted(in_rows) == sorted(names), (stage.name, in_rows, names)
    if stage.clickable:
        assert stage.clickable in names
    assert stage in stages_of(stage.page)


@pytest.mark.parametrize("stage", STAGE_LIST, ids=lambda s: s.name)
def test_the_code_shown_to_learners_is_public_and_has_its_source(stage):
    assert stage.code
    for fn in stage.code:
        assert not fn.__name__.startswith("_"), (stage.name, fn.__name__)
        assert inspect.getsource(fn).lstrip().startswith(("def ", "class ", "@"))


def test_no_page_imports_an_underscore_name():
    for f in (REPO / "pages").glob("*.py"):
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom):
                private = [n.name for n in node.names if n.name.startswith("_")]
                assert not private, (f.name, node.module, private)


def test_stage_names_are_unique_and_options_are_what_the_builders_take():
    assert len(STAGES) == len(STAGE_LIST)
    for s in STAGE_LIST:
        params = inspect.signature(s.build).parameters
        assert set(s.options) <= set(params), (s.name, s.options, list(params))


def test_a_new_stage_needs_nothing_outside_its_record_builder_page_and_tests(monkeypatch):
    """A stage added to the catalog alone is drawn by the app's cache, scripted by Code for this view, and shown by
    the notebook's show(): nothing else names it (the forward pass's record, renamed, stands in for a new one)."""
    import dataclasses

    import numpy as np

    import convviz
    from convviz.ui.context import build_arrays
    from convviz.ui.export import view_script
    from convviz.ui.trace_view import get_trace

    forward = STAGES["forward"]

    def build(spec, a, n=0, f=0):
        return dataclasses.replace(forward.build(spec, a, n=n, f=f), stage="demo_stage")

    monkeypatch.setitem(STAGES, "demo_stage", dataclasses.replace(forward, name="demo_stage", build=build))
    settings = Settings(h=5, w=5, data="random")
    assert get_trace("demo_stage", settings).stage == "demo_stage"
    assert STAGES["demo_stage"].trace_for(settings, build_arrays).panel("y").values.shape == (3, 3)
    assert '"""Forward pass as a sliding window.' in view_script("demo_stage", settings)
    fig = convviz.show("demo_stage", x=np.ones((5, 5)), w=np.ones((3, 3)))
    assert fig.layout.meta["stage"] == "demo_stage"
