"""A page's context: the shared settings, the layer's arrays, its title, and what it explains.

The figure comes first on every page: a page draws its title here, and its explanation (intro, formula, the
geometry line with the user's numbers) is kept in `About` and drawn under the figure by the trace view.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import streamlit as st

from .. import data as cvdata
from .. import typed
from ..geometry import ConvSpec
from ..stages import Arrays
from .controls import stop_page
from .settings import Settings
from .shell import ensure_app_navigation

CACHE_ENTRIES = 48
LAST_GOOD = "cv__last_good"  # the last settings whose data and layer were valid (drawn while a typed text is fixed)
TITLE_KEY = "cv_title"  # the presenter's page title's container (CSS class st-key-cv_title; player.js finds it)
TITLE_SIDE_KEY = "cv_title_side"  # the same title drawn again at the top of the player's column beside the figure
PICKERS_KEY = "cv_pickers"  # the row of sample / channel selectors over a figure
PAGE_TITLE = "cv__page_title"  # the title the page drew last, for a fragment that draws it again beside its figure


@dataclass(frozen=True)
class About:
    """What a page explains, drawn under its figure: the intro (Markdown), a formula (LaTeX) and fact lines."""

    intro: str = ""
    formula: str | None = None
    facts: tuple[str, ...] = ()

    def with_formula(self, formula: str) -> About:
        return dataclasses.replace(self, formula=formula)

    def with_facts(self, facts: Sequence[str]) -> About:
        return dataclasses.replace(self, facts=tuple(facts))


@dataclass(frozen=True)
class Context:
    settings: Settings
    spec: ConvSpec  # the page's layer (a TransposedSpec on the transposed convolution page)
    arrays: Arrays
    about: About = About()


def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner=False)
def build_arrays(settings: Settings) -> Arrays:
    """x, w, b and an upstream gradient dout for the settings: presets, or the user's typed numbers.

    x, w and b depend only on the input and kernel shapes, so they exist whenever those do; dout has the forward
    convolution's output shape, and is empty (0, 0, 0, 0) when the settings make no forward convolution (the transposed
    convolution page's layer can still be valid). Raises TypedError (a ValueError) naming the row, column or channel
    of a typed text that is wrong. Shared read-only between sessions: nothing downstream writes into them.
    """
    shapes = settings.array_spec()
    try:
        out_shape = settings.spec().output_shape
    except ValueError:
        out_shape = None
    return Arrays(
        x=_readonly(input_of(settings, shapes)),
        w=_readonly(kernels_of(settings, shapes)),
        b=_readonly(biases_of(settings, shapes)),
        dout=_readonly(upstream_of(settings, out_shape) if out_shape else np.zeros((0, 0, 0, 0))),
    )


def input_of(settings: Settings, shapes: ConvSpec) -> np.ndarray:
    """x (N, C, H, W): a preset, or the typed input (one sample, repeated for every sample of the batch)."""
    if settings.data != "custom":
        return cvdata.make_input(shapes, settings.data, settings.seed)
    grid = typed.parse_grid(settings.xv, "input")  # (C, H, W)
    if grid.shape != shapes.input_shape[1:]:
        c, h, w = grid.shape
        want_c, want_h, want_w = shapes.input_shape[1:]
        raise typed.TypedError(f"input: your numbers make {c} channel(s) of {h} x {w}, the layer takes {want_c} of "
                               f"{want_h} x {want_w}; the app draws at most 8 channels of 32 x 32.")
    return np.broadcast_to(grid, shapes.input_shape).copy()


def kernels_of(settings: Settings, shapes: ConvSpec) -> np.ndarray:
    """w (F, C/groups, KH, KW): a preset, or the typed kernels (one typed kernel serves every pair)."""
    if settings.kernel != "custom":
        return cvdata.make_kernel(shapes, settings.kernel, settings.seed)
    return typed.parse_kernels(settings.kv, *shapes.weight_shape)


def biases_of(settings: Settings, shapes: ConvSpec) -> np.ndarray:
    """b (F,): the preset's, or with the custom kernel the typed biases (none typed: zeros)."""
    if settings.kernel != "custom":
        return cvdata.make_bias(shapes, settings.kernel, settings.seed)
    if not settings.bv.strip():
        return np.zeros(shapes.f)
    b = typed.parse_vector(settings.bv, "bias")
    if b.shape != (shapes.f,):
        raise typed.TypedError(f"bias: {b.size} number(s) typed, one per output channel expected (F = {shapes.f}).")
    return b


def upstream_of(settings: Settings, out_shape: tuple[int, int, int, int]) -> np.ndarray:
    """dout (N, F, OH, OW): random small integers, ones, a one-hot at output cell (oi, oj) of every sample and
    channel (one output's path back to the input), or the typed gradient (F channels of OH x OW, every sample)."""
    n, f, oh, ow = out_shape
    if settings.dout == "ones":
        return np.ones(out_shape)
    if settings.dout == "onehot":
        if settings.oi >= oh or settings.oj >= ow:
            raise typed.TypedError(f"one-hot: the output cell ({settings.oi}, {settings.oj}) is outside the output, "
                                   f"which has {oh} x {ow} cells (rows 0..{oh - 1}, columns 0..{ow - 1}).")
        d = np.zeros(out_shape)
        d[:, :, settings.oi, settings.oj] = 1.0
        return d
    if settings.dout == "custom":
        grid = typed.parse_grid(settings.gv, "upstream gradient")  # (F, OH, OW)
        if grid.shape != (f, oh, ow):
            c, h, w = grid.shape
            raise typed.TypedError(f"upstream gradient: your numbers make {c} channel(s) of {h} x {w}; the output is "
                                   f"{f} channel(s) of {oh} x {ow} (one channel per output channel, separated by '|').")
        return np.broadcast_to(grid, out_shape).copy()
    return cvdata.make_dout(out_shape, settings.seed)


def settings_of_session() -> Settings:
    """The settings app.py put in the session (defaults when a page runs on its own, e.g. in a test)."""
    return st.session_state.get("cv_settings", Settings())


def presenting() -> bool:
    return bool(st.session_state.get("cv_present", False))


def coverage_text(spec: ConvSpec) -> str:
    """Which rows and columns no window reads: the remainder at the bottom/right of the padded input, and x's own rows
    and columns before it that no tap lands on (numbered from 0, as the figures label them)."""
    parts = []
    if spec.rem_h or spec.rem_w:
        parts.append(f"uncovered: {spec.rem_h} row(s), {spec.rem_w} column(s) at the bottom/right")
    rows, cols = list(spec.skipped_input("h")), list(spec.skipped_input("w"))
    if rows or cols:
        lists = [f"{name} {_listing(idx)}" for name, idx in (("rows", rows), ("columns", cols)) if idx]
        parts.append(f"no tap lands on x's {'; '.join(lists)} (zero gradient)")
    return " · ".join(parts) or "every row and column is covered"


def _listing(values: list[int], most: int = 6) -> str:
    """'0, 2, 4' or, past `most` values, '0, 2, 4, 6, 8, 10, … (16 in all)'."""
    head = ", ".join(map(str, values[:most]))
    return head if len(values) <= most else f"{head}, … ({len(values)} in all)"


def geometry_line(spec: ConvSpec, pooling: bool = False) -> str:
    """The facts every page shows, with the user's numbers (a pooling layer has a window, not weights)."""
    unc = coverage_text(spec)
    what = f"window {spec.kernel_size}" if pooling else f"w {spec.weight_shape}"
    return (f"x {spec.input_shape} · {what} · stride {spec.stride} · dilation {spec.dilation} · "
            f"padding (t, b, l, r) {spec.padding} → y {spec.output_shape}  \n"
            f"{spec.output_size_formula('h')} · {spec.output_size_formula('w')} · {unc}")


def page_header(title: str, intro: str | None = None) -> None:
    """A page's title; its intro under it when given (pages with a figure draw theirs under the figure instead).

    In presenter mode the title is one compact line, so the figure gets the screen."""
    ensure_app_navigation()  # a first-run deep link may execute this page without app.py: rerun through app.py
    if presenting():
        st.session_state[PAGE_TITLE] = title
        with st.container(key=TITLE_KEY):  # hidden when the player's column beside the figure shows it instead
            st.markdown(f"#### {title}")
    else:
        st.title(title)
    if intro:
        if presenting():
            with st.expander("What this page teaches"):
                st.markdown(intro)
        else:
            st.markdown(intro)


def hide_page_title() -> None:
    """Presenter mode: the page's title not over the page, because the player shows it (in its bar, or at the top of
    its column beside the figure): the figure starts that much higher on the screen."""
    st.html(f"<style>[data-testid='stLayoutWrapper']:has(> .st-key-{TITLE_KEY}) {{ display: none; }} "
            "[data-testid='stTabs'] [role='tablist'] { margin-left: 2.5rem; } "
            f".st-key-{PICKERS_KEY} {{ padding-left: 2.5rem; box-sizing: border-box; }}</style>")  # clear of the »


def page_title() -> str:
    """The title the page drew last in presenter mode ("" in normal mode)."""
    return st.session_state.get(PAGE_TITLE, "") if presenting() else ""


def title_beside() -> None:
    """Presenter mode, the player in a column beside the figure: the page's title at the top of that column."""
    hide_page_title()
    with st.container(key=TITLE_SIDE_KEY):
        st.markdown(f"#### {page_title()}")


def page_context(title: str, intro: str, formula: str | None = None, geometry: bool = True,
                 facts: tuple[str, ...] = (), layer: Callable[[Settings], object] = Settings.spec,
                 controls: Callable[[], None] | None = None, grouped: bool = True) -> Context:
    """Title, then the sidebar's layer; stops the page with a plain explanation if the settings are impossible.

    layer: the page's layer from the settings (the forward convolution's ConvSpec; the transposed page's own).
    controls: draws the page's own settings under the title, before the layer is checked (they can fix it).
    grouped: False for a page drawn with groups = 1 whatever the settings (see convviz.stages.Stage.grouped).
    The intro, `formula` and the geometry line (unless the page states its own, in `facts`) go in `Context.about`,
    drawn under the figure (`show_trace(..., about=ctx.about)`)."""
    page_header(title)
    if controls:
        controls()
    settings = settings_of_session()
    if not grouped:
        settings = settings.with_(groups=1)
    try:
        spec = layer(settings)
        arrays = build_arrays(settings)
    except typed.TypedError as err:  # a typed number is wrong: say where, and keep drawing the last numbers that worked
        st.error(escape_md(str(err)))
        good = st.session_state.get(LAST_GOOD)
        if good is None or good == settings:
            st.info("Fix the text in the sidebar; what you typed stays there.")
            stop_page()
        st.caption("Drawn meanwhile with the last numbers that worked; what you typed stays in the sidebar to be fixed.")
        settings = good if grouped else good.with_(groups=1)
        spec, arrays = layer(settings), build_arrays(settings)
    except ValueError as err:
        st.markdown(intro)
        st.error(f"These settings do not make a valid layer. {err}")
        st.info("Change the controls in the sidebar (or press 'Reset to defaults').")
        stop_page()
    else:
        st.session_state[LAST_GOOD] = settings
    facts = ((geometry_line(spec),) if geometry else ()) + tuple(facts)
    return Context(settings, spec, arrays, About(intro, formula, facts))


def show_about(about: About) -> None:
    """A page's explanation under its figure (folded away in presenter mode)."""
    if not (about.intro or about.formula or about.facts):
        return
    box = st.expander("What this page teaches", expanded=False) if presenting() else st.container()
    with box:
        if about.intro:
            st.markdown(about.intro)
        if about.formula:
            st.latex(about.formula)
        for line in about.facts:
            st.caption(line)


def pick_index(label: str, count: int, key: str, help: str | None = None) -> int:
    """A small selector for sample / channel when there is more than one; 0 otherwise. In presenter mode the label
    goes inside it ("sample n = 2"), so the figure under it starts a line higher."""
    if count <= 1:
        return 0
    if presenting():
        return int(st.selectbox(label, range(count), key=key, help=help, label_visibility="collapsed",
                                format_func=lambda i: f"{label} = {i}"))
    return int(st.selectbox(label, range(count), key=key, help=help))


def pick_indices(prefix: str, **axes: tuple[str, int]) -> tuple[int, ...]:
    """Side-by-side selectors, e.g. pick_indices("fwd", n=("sample n", N), f=("output channel f", F)) -> (n, f).

    An axis of size 1 gets no selector (index 0), so single-sample, single-channel settings stay uncluttered.
    """
    shown = {name: spec for name, spec in axes.items() if spec[1] > 1}
    if not shown:
        return tuple(0 for _ in axes)
    picked = dict.fromkeys(axes, 0)
    with st.container(key=PICKERS_KEY):
        for column, (name, (label, count)) in zip(st.columns(len(shown)), shown.items()):
            with column:
                picked[name] = pick_index(label, count, f"{prefix}_{name}")
    return tuple(picked.values())


def escape_md(text: str) -> str:
    """Captions contain '*' and '_' (products, names): show them literally in Markdown."""
    for ch in "\\*_`[]<>#|~$":
        text = text.replace(ch, "\\" + ch)
    return text
