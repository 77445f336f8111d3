"""The shared sidebar controls and their two-way sync with the URL.

Flow on every run: (1) once per session, the URL is parsed and validated (`settings.parse_query`) and the
widgets' state is seeded from it, so no widget ever reads a raw URL value; (2) the settings are read from that
state and the URL is rewritten from them, leaving defaults out (`session_settings`); (3) the page is drawn, then
the widgets (`draw_sidebar`, after the page so its chart reaches the browser first). Settings live in st.session_state, so they
survive page switches; the URL always mirrors them, so a copied link reopens the same view.
"""
from __future__ import annotations

import contextlib

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import StopException

from ..data import INPUT_PRESETS, KERNEL_PRESETS
from ..typed import MAX_CHARS
from .settings import (
    CHOICE_FIELDS,
    DEFAULTS,
    DOUT_PRESETS,
    INT_BY_KEY,
    PAD_MODES,
    PAGE_FIELDS,
    TEXT_FIELDS,
    Settings,
    parse_query,
    to_query,
    with_typed_shape,
)

STATE_PREFIX = "cv_"
SEEDED = "cv__seeded"
NOTES = "cv__url_notes"
LAST = "cv__last"  # the settings of the last run, to undo a segmented control's deselection
LINK_DRAWN = "cv__link_drawn"  # this run has drawn "Link to this view" (app.py draws it last otherwise)
PRESENT = "cv_present"  # presenter mode, a view setting: URL key `present=1`
TRUE_WORDS = ("1", "true", "yes", "on")
# The sidebar's layer groups: the output channels, kernel size, stride, dilation, padding, the kernel and bias data and
# the upstream gradient. A page whose record says layer_controls=False (convviz.stages.Page) reads none of them.
LAYER_FIELDS = ("cout", "kh", "kw", "sh", "sw", "dh", "dw", "pad", "pt", "pb", "pl", "pr", "kernel", "kv", "bv", "dout",
                "oi", "oj", "gv")


def presenter_in_url() -> bool:
    """Whether the URL asks for presenter mode (read before any widget, e.g. to collapse the sidebar)."""
    try:
        return str(st.query_params.get("present", "")).strip().lower() in TRUE_WORDS
    except Exception:
        return False


def _k(name: str) -> str:
    return STATE_PREFIX + name


def seed_from_url() -> None:
    """Once per session: validated URL values become the widgets' starting state."""
    if st.session_state.get(SEEDED):
        return
    try:
        query = {k: st.query_params.get_all(k) for k in st.query_params.keys()}
    except Exception:  # a URL Streamlit itself cannot parse: start from the defaults
        query = {}
    settings, notes = parse_query(query)
    for name, value in vars(settings).items():
        st.session_state[_k(name)] = value
    st.session_state[PRESENT] = presenter_in_url()
    st.session_state[NOTES] = notes
    st.session_state[SEEDED] = True


def current_settings() -> Settings:
    """The settings as the widgets hold them now; a control left undrawn in the last run (the padding sides outside
    custom mode) has lost its state and reads as its default."""
    values = {}
    for name, default in vars(DEFAULTS).items():
        value = st.session_state.get(_k(name))
        values[name] = default if value is None else value
    return Settings(**values)


# One tap per value for small ranges; the others are sliders (drag, tap the track, arrow keys). Not number inputs:
# at the sidebar's width Streamlit draws them without - / + buttons, so every change had to be typed.
SEGMENTED = ("n", "cin", "cout", "kh", "kw", "sh", "sw", "dh", "dw", "pt", "pb", "pl", "pr")
TYPED_HELP = ("Rows by a new line or ';', numbers by ',' or spaces, channels by '|'; a pasted NumPy array or nested "
              "list works too.")
DOUT_LABELS = {"random": "small random integers", "ones": "ones", "onehot": "one-hot: one output cell (its path back)",
               "custom": "your own numbers"}
UPLOAD_NOTES = "cv__upload_notes"  # what the last upload became (or why it was refused), shown under the uploader
# Targets of 24 px at least (WCAG 2.5.8; radio rows, toggle, help marks are 16-22 px), nine segments to a 300 px row.
SIDEBAR_CSS = """<style>
[data-testid="stSidebarUserContent"] button[data-variant="segmented_control"] {
  padding-left: 0.25rem; padding-right: 0.25rem; min-height: 2.25rem; }
[data-testid="stSidebarUserContent"] [data-testid="stRadioOption"],
[data-testid="stSidebarUserContent"] [data-testid="stCheckbox"] label { min-height: 1.75rem; align-items: center; }
[data-testid="stSidebarUserContent"] [data-testid="stTooltipHoverTarget"] button { padding: 4px; margin: -4px; }
</style>"""


def _help(name: str) -> str:
    f = INT_BY_KEY[name]
    return f"{f.low} to {f.high}; URL key '{name}'"


def _keep_choice(name: str, default) -> None:
    """on_change of a segmented control: a click on the selected segment deselects it (None); keep the old value."""
    key = _k(name)
    if st.session_state.get(key) is None:
        st.session_state[key] = st.session_state.get(LAST, {}).get(name, default)


def _state_for(name: str) -> None:
    """A control drawn again after a run without it starts at the default the settings read, not empty (a segmented
    control without state and without a default shows no selection)."""
    if st.session_state.get(_k(name)) is None:
        st.session_state[_k(name)] = getattr(DEFAULTS, name)


def _segmented(name: str, label: str, options, help: str, format_func=str, disabled: bool = False) -> None:
    _state_for(name)
    st.segmented_control(label, list(options), key=_k(name), required=True, format_func=format_func, help=help,
                         on_change=_keep_choice, args=(name, getattr(DEFAULTS, name)), width="stretch",
                         disabled=disabled)


def _int_control(name: str, disabled: bool = False) -> None:
    f = INT_BY_KEY[name]
    help_ = _help(name) + ("; set by your typed input" if disabled else "")
    if name in SEGMENTED:
        _segmented(name, f.label, range(f.low, f.high + 1), help_, disabled=disabled)
    else:
        _state_for(name)
        keys = "arrow keys ±1, Page Up/Down ±1000" if name == "seed" else "arrow keys ±1"
        st.slider(f.label, min_value=f.low, max_value=f.high, step=1, key=_k(name), help=f"{help_}; {keys}",
                  disabled=disabled)


def _pair(a: str, b: str) -> None:
    """Two 1-4 controls side by side (four segments stay about 28 px wide); on a phone Streamlit stacks them."""
    for column, name in zip(st.columns(2), (a, b)):
        with column:
            _int_control(name)


def session_settings(layer_controls: bool = True) -> Settings:
    """The settings of this run, read before any control is drawn, and the URL made to mirror them.

    Widget state is in st.session_state from the start of a run (a changed control's new value included), so
    the page can be drawn first and the sidebar after it (`draw_sidebar`): the browser then gets the page's
    chart before the sidebar's 30-odd elements, and draws it sooner after a change.
    layer_controls: False on a page that hides the layer groups (LAYER_FIELDS): their values are kept for the pages
    that show them, and stay in the URL.
    """
    seed_from_url()
    keep_page_settings()
    if not layer_controls:
        keep_settings(LAYER_FIELDS)
    settings = with_typed_shape(current_settings())
    for name in ("h", "w", "cin"):  # a typed input sets them: the controls show its shape
        st.session_state[_k(name)] = getattr(settings, name)
    st.session_state[LAST] = vars(settings)
    sync_url(settings)
    return settings


def keep_page_settings() -> None:
    """A page's own settings (PAGE_FIELDS) outlive a visit to another page (see keep_settings)."""
    keep_settings(PAGE_FIELDS)


def keep_settings(names) -> None:
    """These settings outlive a run that does not draw their controls: Streamlit forgets a widget's state after a
    run that does not draw it, unless the state is set again, as here, before any widget."""
    for name in names:
        key = _k(name)
        if key in st.session_state and st.session_state[key] is not None:
            st.session_state[key] = st.session_state[key]


def settings_read(settings: Settings, layer_controls: bool = True) -> Settings:
    """The settings a page computes with: on a page without the layer controls, the layer groups (LAYER_FIELDS) at
    their defaults, so values it hides (a custom kernel or upstream gradient that no longer fits) cannot stop it and
    its caches do not depend on them. The URL and the state keep the real values (session_settings)."""
    if layer_controls:
        return settings
    return settings.with_(**{name: getattr(DEFAULTS, name) for name in LAYER_FIELDS})


def upload_control() -> None:
    """Upload a photo: reduced to H x W by area averaging, it becomes the typed input (data=custom), so the link to
    this view carries its numbers when they fit a link."""
    st.file_uploader("or upload your own picture (PNG or JPEG, at most 5 MB)", key="cv_upload", on_change=_take_upload,
                     help="Reduced to H x W (up to 32 x 32) by averaging, grayscale (three channels when C = 3), "
                          "numbers 0..9. The picture itself stays in this session; its numbers go in the link.")
    for ok, line in st.session_state.get(UPLOAD_NOTES, ()):
        (st.caption if ok else st.error)(line)


def _take_upload() -> None:
    """on_change of the uploader: decode, check and reduce the file; on success the input becomes its numbers."""
    from ..typed import grid_text
    from ..upload import UploadError, image_to_input

    file = st.session_state.get("cv_upload")
    if file is None:
        return
    h, w, c = (st.session_state.get(_k(k)) or getattr(DEFAULTS, k) for k in ("h", "w", "cin"))
    try:
        result = image_to_input(file.getvalue(), h, w, channels=3 if c == 3 else 1)
    except UploadError as err:
        st.session_state[UPLOAD_NOTES] = [(False, str(err))]
        return
    st.session_state[_k("data")] = "custom"
    st.session_state[_k("xv")] = grid_text(result.x)
    st.session_state[UPLOAD_NOTES] = [(True, line) for line in result.notes]


def page_controls(*names: str, **kw) -> None:
    """A page's own settings (PAGE_FIELDS) at the top of the sidebar, under "This page", above the shared controls
    (the page runs before the sidebar is drawn); each a segmented control, one tap a value, kept in the URL.
    kw: per name, a dict of page_control's keyword arguments (options, help, format_func)."""
    with st.sidebar:
        st.markdown("**This page**")
        for name in names:
            page_control(name, **kw.get(name, {}))


def page_control(name: str, options=None, help: str = "", format_func=str) -> None:
    """One page setting as a segmented control. options: the values offered (default: the field's whole range or
    choices); a value the URL set outside them is offered too, so the control shows what the page uses."""
    if name in INT_BY_KEY:
        f = INT_BY_KEY[name]
        label, options = f.label, list(options if options is not None else range(f.low, f.high + 1))
    else:
        label, _, allowed = CHOICE_FIELDS[name]
        options = list(options if options is not None else allowed)
    _state_for(name)
    if st.session_state[_k(name)] not in options:  # e.g. groups left from channels that no longer allow it
        options = options + [st.session_state[_k(name)]]
    st.segmented_control(label, options, key=_k(name), required=True, format_func=format_func,
                         help=(help + "; " if help else "") + f"URL key '{name}'",
                         on_change=_keep_choice, args=(name, getattr(DEFAULTS, name)), width="stretch")


def text_page_control(name: str, label: str, help: str = "", placeholder: str = "", canonical=None) -> None:
    """A page's own text setting (a PAGE_FIELDS text, e.g. the network's stack) as a text box; the page validates it
    and says what is wrong, and the box keeps what was typed so it can be fixed.

    canonical: text -> its canonical form (raising ValueError for a text that does not parse): a typed text that
    parses is rewritten to it, as a link's is (settings.parse_query), so the box and the URL show one spelling."""
    _state_for(name)
    st.text_input(label, key=_k(name), help=(help + "; " if help else "") + f"URL key '{name}'",
                  placeholder=placeholder, max_chars=TEXT_FIELDS[name],
                  on_change=_canonicalize if canonical else None, args=(name, canonical) if canonical else None)


def _canonicalize(name: str, canonical) -> None:
    """on_change of a text box with a canonical form: a text that parses becomes it; one that does not stays."""
    with contextlib.suppress(ValueError):  # the page explains what is wrong; the box keeps the text to be fixed
        st.session_state[_k(name)] = canonical(st.session_state[_k(name)])


def draw_sidebar(layer_controls: bool = True) -> Settings:
    """Draw the shared controls in the sidebar (from the state `session_settings` read) and return their settings.

    layer_controls: False on a page that reads none of the layer groups (LAYER_FIELDS): only the input's and the
    seed's controls are drawn (the others' values are kept by session_settings)."""
    seed_from_url()
    with st.sidebar:
        st.html(SIDEBAR_CSS)  # style only: Streamlit sends it to the event container, it takes no room
        st.toggle("Presenter mode", key=PRESENT, help="Large cells and fonts, big step buttons; kept in the link "
                  "(present=1) so a prepared link opens in it with the sidebar tucked away.")
        _input_controls(layer_controls)
        if layer_controls:
            _geometry_controls()
        _data_controls()
        if layer_controls:
            _layer_data_controls()
        _int_control("seed")
        st.button("Reset to defaults", use_container_width=True, on_click=_reset)
    return current_settings()


def _input_controls(layer_controls: bool) -> None:
    """H, W, N, C, and F where the page reads it (a typed input sets H, W and C: their controls show its shape)."""
    st.markdown("**Input**")
    typed_input = st.session_state.get(_k("data")) == "custom"
    names = ("h", "w", "n", "cin", "cout") if layer_controls else ("h", "w", "n", "cin")
    for name in names:  # "F (out channels)" would wrap in half a row
        _int_control(name, disabled=typed_input and name in ("h", "w", "cin"))


def _geometry_controls() -> None:
    """Kernel size, stride, dilation and padding."""
    st.markdown("**Kernel, stride, dilation**")
    for name in ("kh", "kw"):
        _int_control(name)
    _pair("sh", "sw")
    _pair("dh", "dw")
    st.markdown("**Padding**")
    _segmented("pad", CHOICE_FIELDS["pad"][0], PAD_MODES, "valid: none; same: TensorFlow rule (output = "
               "ceil(H/stride)); full: EK-1 each side; custom: four sides; URL key 'pad'")
    if st.session_state[_k("pad")] == "custom":
        for name in ("pt", "pb", "pl", "pr"):
            _int_control(name)


def _data_controls() -> None:
    """What x holds: a preset, typed numbers, or an uploaded picture."""
    st.markdown("**Data**")
    st.radio(CHOICE_FIELDS["data"][0], list(INPUT_PRESETS), format_func=INPUT_PRESETS.get, key=_k("data"),
             help="What x holds; URL key 'data'")
    if st.session_state[_k("data")] == "custom":
        # No help mark on the text boxes: the sidebar's wider help targets made their rows scroll sideways on a phone.
        st.text_area("your input x", key=_k("xv"), placeholder="1, 2, 3; 4, 5, 6; 7, 8, 9", max_chars=MAX_CHARS,
                     height=110)
        st.caption(TYPED_HELP + " It sets H, W and C. URL key 'xv'.")
        for ok, line in st.session_state.get(UPLOAD_NOTES, ()):
            if ok:
                st.caption("From your picture: " + line)
    if st.session_state[_k("data")] == "image":
        upload_control()


def _layer_data_controls() -> None:
    """What w and b hold, and the upstream gradient dout."""
    st.radio(CHOICE_FIELDS["kernel"][0], list(KERNEL_PRESETS), format_func=KERNEL_PRESETS.get, key=_k("kernel"),
             help="What w holds (your own: type it below); URL key 'kernel'")
    if st.session_state[_k("kernel")] == "custom":
        st.text_area("your kernels w", key=_k("kv"), placeholder="1, 0, -1; 2, 0, -2; 1, 0, -1", max_chars=MAX_CHARS,
                     height=90)
        st.caption("One kernel for every (f, c) pair, or F x C/groups kernels separated by '|' (f major, c minor). "
                   + TYPED_HELP + " URL key 'kv'.")
        st.text_area("your biases b (F numbers; empty: zeros)", key=_k("bv"), placeholder="0, 1", max_chars=400,
                     height=68)
    st.radio(CHOICE_FIELDS["dout"][0], list(DOUT_PRESETS), format_func=DOUT_LABELS.get, key=_k("dout"),
             help="dout = dL/dy on the backward pages; URL key 'dout'")
    if st.session_state[_k("dout")] == "onehot":
        _pair("oi", "oj")
    if st.session_state[_k("dout")] == "custom":
        st.text_area("your upstream gradient dout", key=_k("gv"), placeholder="1, 0; 0, 0", max_chars=MAX_CHARS,
                     height=90)
        st.caption("F channels of OH x OW, channels separated by '|'. " + TYPED_HELP + " URL key 'gv'.")


class PageStop(StopException):
    """Raised by `stop_page`. app.py catches it, so the run ends normally with the sidebar drawn after the page.

    A subclass of Streamlit's own stop, so a page run without app.py (it never is: see shell.py) still stops
    quietly rather than showing an exception.
    """


def stop_page() -> None:
    """Stop the page here, like st.stop(), once it has explained why it cannot go on.

    Not st.stop(): app.py draws the sidebar after the page, and nothing runs after st.stop(), so the user would
    be left without the controls that fix the settings.
    """
    raise PageStop()


def _reset() -> None:
    """Button callback: every shared control back to its default (runs before the widgets are created)."""
    apply_settings(DEFAULTS)


def apply_settings(settings: Settings) -> None:
    """Button callback: the shared controls take these (validated) settings, in this session, before the widgets
    are drawn; the URL follows them on the run that comes next."""
    for name, value in vars(settings).items():
        st.session_state[_k(name)] = value


def sync_url(settings: Settings) -> None:
    """Make the URL mirror the settings (defaults left out) and presenter mode."""
    wanted = query_of_view(settings)
    current = {k: st.query_params.get(k) for k in st.query_params.keys()}
    if current != wanted:
        st.query_params.from_dict(wanted)


def query_of_view(settings: Settings) -> dict[str, str]:
    """The query parameters of the current view: the settings that differ from the defaults, and presenter mode."""
    wanted = to_query(settings)
    if st.session_state.get(PRESENT):
        wanted["present"] = "1"
    return wanted


LINK_MAX_CHARS = 6000  # a link longer than this may be cut by mail clients, chat apps and some servers


def share_link(settings: Settings) -> None:
    """A visible link to this page with these settings; the code box has a copy button. Typed numbers too long for a
    link are left out of it, and the box says so."""
    from urllib.parse import urlencode

    base = st.context.url or ""
    view = query_of_view(settings)
    query = urlencode(view)
    dropped = []
    if len(query) > LINK_MAX_CHARS:
        dropped = [k for k in ("xv", "gv", "kv", "bv") if k in view]
        query = urlencode({k: v for k, v in view.items() if k not in dropped})
    link = f"{base}?{query}" if query else base or "(open the app in a browser to get its address)"
    st.session_state[LINK_DRAWN] = True
    with st.popover("🔗 Link to this view"):
        st.caption("This page with these settings; the box has a copy button.")
        if dropped:
            st.warning(f"Your typed numbers ({', '.join(dropped)}) make a link longer than {LINK_MAX_CHARS:,} "
                       "characters, so this link leaves them out: it opens with the same settings but the default "
                       "numbers. Fewer or shorter numbers fit (e.g. a smaller input).")
        elif settings.data == "custom":
            st.caption("Your typed numbers are in the link.")
        st.code(link, language=None, wrap_lines=True)


def url_notes() -> list[str]:
    return list(st.session_state.get(NOTES, []))
