"""Your own numbers under AppTest: typed inputs, kernels, biases and upstream gradients, uploads, and links.

Expected numbers come from PyTorch (float64) or from the source a worked example is typed from, never from the page.
"""
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from streamlit.testing.v1 import AppTest

from convviz.stages import PAGE, PAGES, stages_of
from tests.app.test_new_stages import last_step as last
from tests.app.test_new_stages import open_page, stage_figure, t64
from tests.figure_support import panel_grids as panel
from tests.figure_support import panel_grids_at as panel_at

# Dumoulin & Visin, "A guide to convolution arithmetic for deep learning" (2016), Figure 1.1: a 3 x 3 kernel over a
# 5 x 5 input, no padding, unit strides. Input, kernel and output typed from the figure.
GUIDE_X = "3,3,2,1,0; 0,0,1,3,1; 3,1,2,2,3; 2,0,0,2,2; 2,0,0,0,1"
GUIDE_W = "0,1,2; 2,2,0; 0,1,2"
GUIDE_Y = [[12, 12, 17], [10, 17, 19], [9, 6, 14]]
FIGURE_PAGES = [p.path for p in PAGES if stages_of(p.url_path)]


def test_a_worked_example_from_a_paper_opens_from_a_link_cell_for_cell():
    at = open_page("pages/forward.py", {"data": "custom", "xv": GUIDE_X, "kernel": "custom", "kv": GUIDE_W})
    (y,) = panel(stage_figure(at, "forward"), "y")
    np.testing.assert_array_equal(y, GUIDE_Y)
    assert at.query_params["h"] == "5" and at.query_params["w"] == "5"  # the text set H and W
    assert at.sidebar.slider(key="cv_h").disabled  # and the sliders say so


def test_pasted_numpy_arrays_and_nested_lists_are_read_as_typed():
    x = np.array([[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]], float)
    for text in (repr(x), str(x.tolist())):
        at = open_page("pages/forward.py", {"data": "custom", "xv": text, "kernel": "custom", "kv": GUIDE_W})
        (y,) = panel(stage_figure(at, "forward"), "y")
        np.testing.assert_array_equal(y, GUIDE_Y)


def test_typed_channels_kernels_and_biases_equal_torch():
    x = "1,2,0;0,1,3;2,2,1 | 0,1,0;3,0,1;1,1,2"  # C = 2 channels of 3 x 3
    kv = "1,0;0,1 | 0,1;1,0 | 2,0;0,0 | 0,0;0,-1 | 1,1;1,1 | -1,0;0,2"  # F = 3, C = 2: f major, c minor
    query = {"data": "custom", "xv": x, "kernel": "custom", "kv": kv, "bv": "1, -2, 0.5", "cout": "3", "kh": "2",
             "kw": "2"}
    xs = np.array([[[1, 2, 0], [0, 1, 3], [2, 2, 1]], [[0, 1, 0], [3, 0, 1], [1, 1, 2]]], float)
    ws = np.array([[[[1, 0], [0, 1]], [[0, 1], [1, 0]]], [[[2, 0], [0, 0]], [[0, 0], [0, -1]]],
                   [[[1, 1], [1, 1]], [[-1, 0], [0, 2]]]], float)
    y = F.conv2d(t64(xs[None]), t64(ws), t64([1, -2, 0.5])).numpy()[0]
    at = open_page("pages/forward.py", query)
    for f in range(3):
        if f:
            at.selectbox(key="fwd_f").set_value(f).run()
        (grid,) = panel(stage_figure(at, "forward"), "y")
        np.testing.assert_allclose(grid, y[f], atol=1e-12)
    assert at.query_params["cin"] == "2"


def test_a_one_hot_upstream_gradient_lights_exactly_the_receptive_field():
    query = {"h": "7", "w": "7", "sh": "2", "sw": "2", "dout": "onehot", "oi": "1", "oj": "2", "data": "random",
             "kernel": "random"}
    at = open_page("pages/input_gradient.py", query)
    fig = stage_figure(at, "transposed")
    (dx,) = panel_at(fig, "dx", last(fig))
    # torch: the gradient of y[0, 0, 1, 2] with respect to x, with the page's own kernel (read back from its panel)
    (wflip,) = panel(fig, "wflip")
    w = wflip[::-1, ::-1].copy()  # the page shows the kernel rotated by 180 degrees
    xt = torch.zeros(1, 1, 7, 7, dtype=torch.float64, requires_grad=True)
    F.conv2d(xt, t64(w[None, None]), stride=2)[0, 0, 1, 2].backward()
    np.testing.assert_allclose(dx, xt.grad[0, 0].numpy(), atol=1e-12)
    rows, cols = np.nonzero(np.ones((3, 3)))  # the 3 x 3 window of output (1, 2) at stride 2: rows 2..4, cols 4..6
    assert set(zip(*np.nonzero(dx))) <= {(2 + r, 4 + c) for r, c in zip(rows, cols)}


def test_a_typed_upstream_gradient_gives_torchs_weight_gradient():
    query = {"h": "4", "w": "4", "data": "custom", "xv": "1,2,3,4;0,1,0,1;2,2,2,2;1,0,1,0", "dout": "custom",
             "gv": "1,0;0,-1", "kh": "3", "kw": "3"}
    x = torch.tensor([[[[1, 2, 3, 4], [0, 1, 0, 1], [2, 2, 2, 2], [1, 0, 1, 0]]]], dtype=torch.float64)
    w = torch.zeros(1, 1, 3, 3, dtype=torch.float64, requires_grad=True)
    F.conv2d(x, w).backward(torch.tensor([[[[1.0, 0.0], [0.0, -1.0]]]], dtype=torch.float64))
    at = open_page("pages/weight_gradient.py", query)
    fig = stage_figure(at, "weight_grad")
    (dw,) = panel_at(fig, "dw", last(fig))
    np.testing.assert_allclose(dw, w.grad[0, 0].numpy(), atol=1e-12)


@pytest.mark.parametrize("page", FIGURE_PAGES)
@pytest.mark.parametrize("key, text, words", [
    ("xv", "1,2,3;4,5", "row 2 has 2 numbers"),
    ("xv", "1,nan;2,3", "nan in row 1, column 2"),
    ("xv", "1,٣;2,3", "not a number"),
    ("xv", "<b>bold</b>, **x**", "not a number"),
    ("kv", "1,0;0", "kernel"),
    ("bv", "1,2,3", "bias"),
    ("gv", "1,2;3,4;5,6;7,8;9,1;2,3;4,5;6,7", "upstream gradient"),
])
def test_hostile_text_is_explained_on_every_page_and_stays_in_its_box(page, key, text, words):
    query = {"data": "custom", "xv": "1,2,3;4,5,6;7,8,9", "kernel": "custom", "kv": "1,0;0,1", "kh": "2", "kw": "2",
             "dout": "custom", "gv": "1,2;3,4", "net": "c2", key: text}  # net: the network page's stack fits 3 x 3
    at = open_page(page, query)
    if key in ("kv", "bv", "gv") and not PAGE[Path(page).stem].layer_controls:
        # a page without the layer controls does not read them: it draws, and the text waits in the link
        assert not at.error and not at.exception and at.query_params[key] == text.strip()
        return
    messages = [e.value for e in at.error]
    assert any(words in m for m in messages), (page, messages)
    for m in messages:  # nothing typed is rendered as Markdown or HTML: its characters come escaped
        assert "<b>" not in m.replace("\\<b\\>", "") and "**x**" not in m
    assert at.sidebar.text_area(key=f"cv_{key}").value == text.strip()


def test_while_a_typed_text_is_wrong_the_page_keeps_drawing_the_last_numbers_that_worked():
    at = open_page("pages/forward.py", {"data": "custom", "xv": GUIDE_X, "kernel": "custom", "kv": GUIDE_W})
    at.sidebar.text_area(key="cv_xv").set_value("3,3,2; 0,0").run()
    assert not at.exception
    assert any("row 2 has 2 numbers" in e.value for e in at.error)
    assert any("last numbers that worked" in c.value for c in at.caption)
    (y,) = panel(stage_figure(at, "forward"), "y")
    np.testing.assert_array_equal(y, GUIDE_Y)
    assert at.sidebar.text_area(key="cv_xv").value == "3,3,2; 0,0"


def test_old_single_kernel_links_open_exactly_as_before():
    """kv with one kernel and C = F = 2: the kernel serves every (f, c) pair, as it always did."""
    query = {"kernel": "custom", "kv": "1,0,-1;2,0,-2;1,0,-1", "cin": "2", "cout": "2", "data": "random"}
    at = open_page("pages/forward.py", query)
    (w0, w1) = panel(stage_figure(at, "forward"), "w")
    for grid in (w0, w1):
        np.testing.assert_array_equal(grid, [[1, 0, -1], [2, 0, -2], [1, 0, -1]])


def share_link(at: AppTest) -> str:
    return next(c.value for c in at.get("code") if "?" in c.value or c.value.startswith("("))


def test_typed_numbers_are_in_the_link_and_too_long_ones_are_left_out_with_a_word():
    at = open_page("pages/forward.py", {"data": "custom", "xv": GUIDE_X})
    assert "xv=3%2C3%2C2" in share_link(at)
    big = " | ".join(";".join(",".join(["123456.5"] * 32) for _ in range(13)) for _ in range(1))  # ~3,800 characters
    gv = ";".join(",".join(["-99999.25"] * 30) for _ in range(13))
    at = open_page("pages/weight_gradient.py", {"data": "custom", "xv": big, "dout": "custom", "gv": gv[:3990]})
    link = share_link(at)
    assert "xv=" not in link and "gv=" not in link and "data=custom" in link
    assert any("longer than 6,000 characters" in w.value for w in at.warning)


# --------------------------------------------------------------------------------------------------- uploads


def png_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a.astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def upload(at: AppTest, data: bytes, name: str) -> AppTest:
    at.sidebar.file_uploader(key="cv_upload").set_value(
        (name, data, "image/png")).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_an_uploaded_picture_becomes_the_input_by_area_averaging():
    rng = np.random.default_rng(3)
    pic = rng.integers(0, 256, (12, 18))  # reduced to 6 x 6: each cell the mean of a 2 x 3 block
    exact = pic.reshape(6, 2, 6, 3).mean(axis=(1, 3)) / 255 * 9  # block means scaled to 0..9, before rounding
    at = open_page("pages/forward.py", {"data": "image"})
    upload(at, png_bytes(pic), "photo.jpg")  # the name says JPEG: the content decides
    assert at.query_params["data"] == "custom" and "xv" in at.query_params
    (x,) = panel(stage_figure(at, "forward"), "xpad")
    assert np.all(x == np.round(x)) and np.all(np.abs(x - exact) <= 0.5 + 1e-9), (x, exact)
    assert any("area averaging" in c.value for c in at.sidebar.caption)


@pytest.mark.parametrize("data, name, words", [
    (b"", "empty.png", "empty"),
    (b"PK\x03\x04" + b"\0" * 64, "archive.png", "ZIP"),
    (png_bytes(np.zeros((1, 1))), "dot.png", "too small"),
    (png_bytes(np.random.default_rng(0).integers(0, 256, (20, 20)))[:200], "cut.png", "damaged"),  # 488 bytes whole
])
def test_an_unusable_upload_is_explained_and_the_page_keeps_its_input(data, name, words):
    if name == "archive.png":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("a.txt", "hello")
        data = buf.getvalue()
    at = open_page("pages/forward.py", {"data": "image"})
    upload(at, data, name)
    assert any(words.lower() in e.value.lower() for e in at.sidebar.error), [e.value for e in at.sidebar.error]
    assert at.query_params["data"] == "image" and stage_figure(at, "forward")


def test_the_other_unusable_uploads_through_the_app_a_bomb_an_animated_gif_and_a_huge_jpeg():
    from tests.engine.test_upload import blank_bilevel_png, jpeg_declaring

    gif = io.BytesIO()
    Image.new("P", (8, 8), 0).save(gif, "GIF", save_all=True, append_images=[Image.new("P", (8, 8), 1)],
                                   duration=100)
    bomb = blank_bilevel_png(30_000, 30_000)  # a real bomb: 900 megapixels in ~110 kB
    for data, words in ((bomb, "megapixels"), (gif.getvalue(), "a GIF"), (jpeg_declaring(30_000, 30_000), "megapixels")):
        at = open_page("pages/forward.py", {"data": "image"})
        upload(at, data, "picture.png")
        assert any(words in e.value for e in at.sidebar.error), [e.value for e in at.sidebar.error]
        assert at.query_params["data"] == "image"


def test_an_uploaded_photo_is_turned_upright_by_its_exif_orientation():
    from tests.engine.test_upload import digit_picture, encode

    stored = np.array([[0, 3, 9], [6, 1, 4]])  # as the camera stored it: 3 wide, 2 high; displayed turned clockwise
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(Image.fromarray(digit_picture(stored)), "JPEG", quality=95, exif=exif.tobytes())
    at = open_page("pages/forward.py", {"data": "image", "h": "3", "w": "2", "kh": "1", "kw": "1"})
    upload(at, data, "photo.jpg")
    (x,) = panel(stage_figure(at, "forward"), "xpad")
    np.testing.assert_array_equal(x, [[6, 0], [1, 3], [4, 9]])
