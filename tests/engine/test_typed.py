"""convviz.typed (issue 23): reading typed or pasted numbers, and the compact URL form that reads back exactly."""
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from convviz.typed import MAX_CHARS, MAX_VALUE, TypedError, grid_text, parse_grid, parse_kernels, parse_vector

LIMIT = "use finite numbers within ±1e6."
GRID_EXAMPLE = "'1, 2; 3, 4' (';' or a new line between rows, '|' between channels)"
PASTE_WHOLE = "(paste repr(a) or str(a.tolist()) of the whole array)."

# Every finite float64 within ±1e6 (subnormals and -0.0 included), mixed with the numbers people type.
FLOATS = st.one_of(
    st.floats(-MAX_VALUE, MAX_VALUE, allow_nan=False, allow_infinity=False),
    st.integers(-1000, 1000).map(float),
    st.sampled_from([0.0, -0.0, 0.1, -0.5, 5e-324, -2.2250738585072014e-308, 1e-7, 123456.789, MAX_VALUE, -MAX_VALUE]),
)
GRIDS = hnp.arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 32), st.integers(1, 32)), elements=FLOATS)
BIG = 10**6  # max_chars for round trips of large grids of full-precision numbers


def assert_exact(got, want):
    """Same shape and the same bits (so -0.0 and 0.0 differ)."""
    want = np.asarray(want, dtype=np.float64)
    assert got.dtype == np.float64 and got.shape == want.shape
    assert np.array_equal(got.view(np.uint64), np.ascontiguousarray(want).view(np.uint64))


def message(fn, *args, **kwargs) -> str:
    with pytest.raises(TypedError) as err:
        fn(*args, **kwargs)
    assert isinstance(err.value, ValueError)
    return str(err.value)


def echoes_at_most_20(text: str, msg: str) -> bool:
    return not any(text[i:i + 21] in msg for i in range(len(text) - 20))


# ------------------------------------------------------------------------------------------------ round trips


@settings(max_examples=100, deadline=None)
@given(GRIDS)
def test_grid_text_reads_back_exactly(a):
    assert_exact(parse_grid(grid_text(a), max_chars=BIG), a)


@settings(max_examples=60, deadline=None)
@given(GRIDS)
def test_pasted_numpy_repr_reads_back_exactly(a):
    with np.printoptions(threshold=sys.maxsize, floatmode="unique"):
        per_channel = " | ".join(repr(ch) for ch in a)
        whole, printed = repr(a), str(a)  # str(a) has no commas: "[[1. 2.]\n [3. 4.]]"
    for text in (per_channel, whole, printed):
        assert_exact(parse_grid(text, max_chars=BIG), a)


@settings(max_examples=60, deadline=None)
@given(GRIDS)
def test_pasted_python_lists_read_back_exactly(a):
    assert_exact(parse_grid(" | ".join(str(ch.tolist()) for ch in a), max_chars=BIG), a)
    assert_exact(parse_grid(str(a.tolist()), max_chars=BIG), a)


@settings(deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 6), st.integers(1, 6)), elements=st.integers(-99, 99)))
def test_a_default_numpy_repr_of_whole_numbers_reads_back_with_default_caps(a):
    assert_exact(parse_grid(repr(a)), a)
    assert_exact(parse_grid(repr(a.astype(np.float32))), a)  # "..., dtype=float32)"
    assert_exact(parse_grid(repr(a.astype(np.int64))), a)


@settings(deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(1, 4)), elements=FLOATS))
def test_kernels_read_back_from_grid_text_repr_and_lists(w):
    f, c, kh, kw = w.shape
    assert_exact(parse_kernels(grid_text(w), f, c, kh, kw, max_chars=BIG), w)
    with np.printoptions(threshold=sys.maxsize, floatmode="unique"):
        assert_exact(parse_kernels(repr(w), f, c, kh, kw, max_chars=BIG), w)
    assert_exact(parse_kernels(str(w.tolist()), f, c, kh, kw, max_chars=BIG), w)
    assert_exact(parse_kernels(" | ".join(str(k.tolist()) for k in w.reshape(f * c, kh, kw)), f, c, kh, kw, max_chars=BIG), w)


@settings(deadline=None)
@given(hnp.arrays(np.float64, st.integers(1, 64), elements=FLOATS))
def test_vectors_read_back(v):
    assert_exact(parse_vector(grid_text(v), max_chars=BIG), v)
    assert_exact(parse_vector(str(v.tolist()), max_chars=BIG), v)
    with np.printoptions(threshold=sys.maxsize, floatmode="unique"):
        assert_exact(parse_vector(repr(v), max_chars=BIG), v)


# ---------------------------------------------------------------------------------------------- grid_text


def test_grid_text_is_compact_and_shortest():
    a = np.array([[[1.0, 2.5], [-0.0, 1e-7]], [[1e6, -3.0], [0.1, 1 / 3]]])
    assert grid_text(a) == "1,2.5;-0,1e-07|1000000,-3;0.1,0.3333333333333333"
    assert grid_text(np.array([[1.0, 2.0], [3.0, 4.0]])) == "1,2;3,4"
    assert grid_text(np.array([0.5, -1.0])) == "0.5,-1"
    assert grid_text(np.arange(4.0).reshape(2, 2, 1, 1)) == "0|1|2|3"  # kernels f major, c minor


@pytest.mark.parametrize("bad", [np.array([[np.nan]]), np.array([[np.inf]]), np.array([[2e6]]), np.zeros((0, 3)), np.float64(1.0),
                                 np.zeros((1, 1, 1, 1, 1))])
def test_grid_text_refuses_what_cannot_be_read_back(bad):
    with pytest.raises(ValueError):
        grid_text(bad)


# ------------------------------------------------------------------------------------------- accepted forms


@pytest.mark.parametrize("text,expected", [
    ("1, 2; 3, 4 | 5, 6; 7, 8", [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]),
    ("1 2 3\n4 5 6", [[[1, 2, 3], [4, 5, 6]]]),
    ("  1 ,  2 ,\n\n 3 , 4 ,  \n", [[[1, 2], [3, 4]]]),  # trailing commas, extra spaces, blank lines
    ("1,2;3,4;", [[[1, 2], [3, 4]]]),
    ("1\t2\r\n3\t4", [[[1, 2], [3, 4]]]),  # pasted from a spreadsheet
    ("[[1, 2], [3, 4]]", [[[1, 2], [3, 4]]]),
    ("array([[1., 2.],\n       [3., 4.]])", [[[1, 2], [3, 4]]]),
    ("[[[1,2],[3,4]],[[5,6],[7,8]]]", [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]),
    ("np.array([[1, 2], [3, 4]])", [[[1, 2], [3, 4]]]),
    ("numpy.array([ [ 1 , 2 , ] , [ 3 , 4 , ] , ] , )", [[[1, 2], [3, 4]]]),
    ("array([[1., 2.]], dtype=float32)", [[[1, 2]]]),
    ("np.array([[1, 2]], dtype=np.float64)", [[[1, 2]]]),
    ("[1, 2, 3]", [[[1, 2, 3]]]),  # a flat list is one row
    ("[[1. 2.]\n [3. 4.]]", [[[1, 2], [3, 4]]]),  # print(a)
    ("[[1, 2], [3, 4]] | 5, 6; 7, 8", [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]),  # brackets and plain, mixed by '|'
    ("array([[1, 2]]) | array([[3, 4]], dtype=float32)", [[[1, 2]], [[3, 4]]]),
    ("[[[1]], [[2]]] | 3", [[[1]], [[2]], [[3]]]),
    ("1e-3, -2.5E2, +4, .5, 7., 1.e-05", [[[0.001, -250, 4, 0.5, 7, 1e-5]]]),
    ("1e6, -1e6, 1e-400", [[[1e6, -1e6, 0.0]]]),
    ("7", [[[7]]]),
])
def test_grid_forms(text, expected):
    assert_exact(parse_grid(text), np.array(expected, dtype=np.float64))


def test_text_of_exactly_max_chars_is_read():
    text = "1," * (MAX_CHARS // 2)
    assert len(text) == MAX_CHARS and parse_grid(text).shape == (1, 1, MAX_CHARS // 2)


def test_grid_checks_the_shape_the_caller_needs():
    assert parse_grid("1,2;3,4", shape=(1, 2, 2)).shape == (1, 2, 2)
    assert message(parse_grid, "1,2;3,4", what="dout", shape=(2, 2, 2)) == "dout: 1 channel typed, expected 2."
    assert message(parse_grid, "1,2;3,4", what="dout", shape=(1, 3, 2)) == "dout: 2 rows typed, expected 3 (each channel is 3x2)."
    assert message(parse_grid, "1,2;3,4", what="dout", shape=(1, 2, 3)) == "dout: 2 columns typed, expected 3 (each channel is 2x3)."


@pytest.mark.parametrize("text,expected", [
    ("0.5, -1, 2", [0.5, -1, 2]), ("1;2\n3 4,", [1, 2, 3, 4]), ("[1, 2, 3]", [1, 2, 3]),
    ("array([0.5, 1. ])", [0.5, 1]), ("array([1, 2], dtype=int64)", [1, 2]), ("5", [5]),
])
def test_vector_forms(text, expected):
    assert_exact(parse_vector(text), np.array(expected, dtype=np.float64))


def test_vector_size():
    assert parse_vector("1, 2", size=2).shape == (2,)
    assert message(parse_vector, "1, 2, 3", size=2) == "bias: 3 numbers typed, expected 2."


# --------------------------------------------------------------------------------------------------- kernels

SOBEL = [[1, 0, -1], [2, 0, -2], [1, 0, -1]]


@pytest.mark.parametrize("text,kh,kw,grid", [  # the old single-kernel links (convviz.ui.settings.parse_kernel_text)
    ("1,0;0,1", 2, 2, [[1.0, 0.0], [0.0, 1.0]]),
    (" 1, 0, -1 ; 2, 0, -2 ; 1, 0, -1 ", 3, 3, SOBEL),
    ("1,0,-1; 2,0,-2; 1,0,-1", 3, 3, SOBEL),
    ("1 2 3\n4 5 6", 2, 3, [[1, 2, 3], [4, 5, 6]]),
    ("-.5,+2.5e1,1E-3,7.", 1, 4, [[-0.5, 25.0, 0.001, 7.0]]),
    ("3;", 1, 1, [[3.0]]),
    ("1,0,-1,0,1;2,0,-2,0,2", 2, 5, [[1, 0, -1, 0, 1], [2, 0, -2, 0, 2]]),
])
def test_old_single_kernel_syntax(text, kh, kw, grid):
    assert_exact(parse_kernels(text, 1, 1, kh, kw), np.array(grid, dtype=np.float64).reshape(1, 1, kh, kw))


def test_one_kernel_is_used_for_every_filter_and_channel():
    w = parse_kernels("1,0,-1; 2,0,-2; 1,0,-1", 2, 3, 3, 3)
    assert w.shape == (2, 3, 3, 3) and w.flags.writeable
    assert_exact(w, np.broadcast_to(np.array(SOBEL, dtype=np.float64), (2, 3, 3, 3)))
    assert_exact(parse_kernels("[[[[5]]]]", 2, 2, 1, 1), np.full((2, 2, 1, 1), 5.0))
    w[0, 0, 0, 0] = 9  # a copy, not a view of one kernel
    assert w[1, 2, 0, 0] == 1


def test_kernels_are_read_f_major_c_minor():
    w = parse_kernels("1 | 2 | 3 | 4 | 5 | 6", 2, 3, 1, 1)
    assert [[w[f, c, 0, 0] for c in range(3)] for f in range(2)] == [[1, 2, 3], [4, 5, 6]]
    w = parse_kernels("[[[1]], [[2]], [[3]]] | [[4]] | 5; | [6]", 2, 3, 1, 1)  # a stack, a pasted one, plain ones
    assert w.ravel().tolist() == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("text,f,c,kh,kw,expected", [
    ("1 | 2 | 3", 2, 3, 1, 1, "kernel: 3 kernels typed, expected 1 (used for every filter and channel) or 6 "
                              "(one per filter and channel: F=2 x C=3, in the order w[0,0] | w[0,1] | ... | w[1,0] | ...)."),
    ("1 | 2", 1, 1, 1, 1, "kernel: 2 kernels typed, expected 1."),
    ("1,0;0,1", 1, 1, 3, 3, "kernel: the kernel has 2 rows, expected 3 (each kernel is 3x3)."),
    ("1,0,0;0,1,1", 1, 1, 2, 2, "kernel: the kernel has rows of 3 numbers, expected 2 (each kernel is 2x2)."),
    ("1,0;0,1 | 1,0,0;0,1,1", 2, 1, 2, 2, "kernel: kernel 2 has rows of 3 numbers, expected 2 (each kernel is 2x2)."),
    ("1,0;0,1 | 1,1;1", 2, 1, 2, 2, "kernel: row 2 of kernel 2 has 1 number, row 1 has 2."),
    ("1,0,0;0,1,abc", 1, 1, 2, 3, "kernel: 'abc' in row 2, column 3 is not a number."),
    ("1,0;0,1 | 1,nan;0,1", 2, 1, 2, 2, "kernel: nan in row 1, column 2 of kernel 2 is not allowed: " + LIMIT),
    ("[[[1,2]],[[3,x]]]", 2, 1, 1, 2, "kernel: 'x' in row 1, column 2 of kernel 2 is not a number."),
    ("[[[[1, 2]], [[3, 4]]], [[[5, 6]], [[7, inf]]]]", 2, 2, 1, 2,
     "kernel: inf in row 1, column 2 of filter 2, channel 2 is not allowed: " + LIMIT),
    ("[[[[1, 2]], [[3, 4]]]]", 2, 1, 1, 2, "kernel: the pasted array holds 1x2 kernels (filters x channels), "
                                           "expected 1x1 (used for every pair) or 2x1."),
    ("[[[[1, 2, 3]]]]", 1, 1, 1, 2, "kernel: each pasted kernel has rows of 3 numbers, expected 2 (each kernel is 1x2)."),
    ("[[[[1]]]] | 2", 2, 1, 1, 1, "kernel: a 4-level array (filters, channels, rows, columns) must be pasted alone, without '|'."),
    ("[[[[[1]]]]]", 1, 1, 1, 1, "kernel: too many levels of brackets: at most 4 are read (filters, channels, rows, columns)."),
    ("", 1, 1, 3, 3, "kernel: nothing typed: type numbers like '1, 0, -1; 2, 0, -2; 1, 0, -1' ('|' between kernels)."),
    ("1 | ", 2, 1, 1, 1, "kernel: kernel 2 is empty: type numbers between the '|' separators."),
])
def test_kernel_errors(text, f, c, kh, kw, expected):
    assert message(parse_kernels, text, f, c, kh, kw) == expected


# ---------------------------------------------------------------------------------------------- grid errors

RAGGED = "1,2,3,4,5; 1,2,3,4,5; 1,2,3,4,5 | 1,2,3,4,5; 1,2,3,4,5; 1,2,3,4"


@pytest.mark.parametrize("text,expected", [
    (RAGGED, "input: row 3 of channel 2 has 4 numbers, the rows above have 5."),
    ("1,2;3", "input: row 2 has 1 number, row 1 has 2."),
    ("1,2;3,4,5;6,7", "input: row 2 has 3 numbers, row 1 has 2."),
    ("[[1, 2], [3]]", "input: row 2 has 1 number, row 1 has 2."),
    ("[[[1,2],[3,4]],[[5,6],[7]]]", "input: row 2 of channel 2 has 1 number, row 1 has 2."),
    ("[[[1,2],[3,4]],[[5,6]]]", "input: channel 2 has 1 row, channel 1 has 2."),
    ("1,2;3,4 | 5,6 | 7,8;9,10", "input: channel 2 has 1 row, channel 1 has 2."),
    ("1,2 | 3,4 | 5,6,7", "input: channel 3 has rows of 3 numbers, the channels above have rows of 2."),
    ("[[1, 2], 3]", "input: row 2 is a single number, but row 1 is a list in brackets."),
    ("[1, [2, 3]]", "input: row 1, column 2 is a list in brackets where a number was expected."),
    ("[[1, 2], []]", "input: empty brackets '[]' at row 2: every row needs numbers."),
    ("1,2;3,abc", "input: 'abc' in row 2, column 2 is not a number."),
    ("1,2 | 3,4;5,abc", "input: 'abc' in row 2, column 2 of channel 2 is not a number."),
    ("[[[1,2]],[[3,abc]]]", "input: 'abc' in row 1, column 2 of channel 2 is not a number."),
    ("[1, 2, abc]", "input: 'abc' in row 1, column 3 is not a number."),
    ("1,2;3,NaN", "input: NaN in row 2, column 2 is not allowed: " + LIMIT),
    ("-inf", "input: -inf in row 1, column 1 is not allowed: " + LIMIT),
    ("1, Infinity", "input: Infinity in row 1, column 2 is not allowed: " + LIMIT),
    ("1e999", "input: 1e999 in row 1, column 1 is outside ±1e6: " + LIMIT),
    ("1; -1000000.5", "input: -1000000.5 in row 2, column 1 is outside ±1e6: " + LIMIT),
    ("--1", "input: '--1' in row 1, column 1 is not a number."),
    ("1.2.3", "input: '1.2.3' in row 1, column 1 is not a number."),
    ("0x10", "input: '0x10' in row 1, column 1 is not a number."),
    ("1_000", "input: '1_000' in row 1, column 1 is not a number."),
    ("1e", "input: '1e' in row 1, column 1 is not a number."),
    ("1, ٣", "input: '٣' in row 1, column 2 is not a number (type digits as plain ASCII 0-9)."),  # Arabic-Indic three
    ("３", "input: '３' in row 1, column 1 is not a number (type digits as plain ASCII 0-9)."),  # fullwidth three
    ("1, 2, ..., 9", "input: '...' in row 1, column 3 is not a number "
                     "(NumPy shortened the array: print it after np.set_printoptions(threshold=sys.maxsize))."),
    ("[np.float64(1.0)]", "input: 'np.float64(1.0' in row 1, column 1 is not a number " + PASTE_WHOLE),
    ("__import__('os')", "input: \"__import__('os'\" in row 1, column 1 is not a number " + PASTE_WHOLE),
    ("", "input: nothing typed: type numbers like " + GRID_EXAMPLE + "."),
    (" \n\t ", "input: nothing typed: type numbers like " + GRID_EXAMPLE + "."),
    (";, ;\n|,", "input: no numbers, only separators: type numbers like " + GRID_EXAMPLE + "."),
    ("[[]]", "input: no numbers, only separators: type numbers like " + GRID_EXAMPLE + "."),
    ("1,2 |", "input: channel 2 is empty: type numbers between the '|' separators."),
    ("| 1,2", "input: channel 1 is empty: type numbers between the '|' separators."),
    ("[[1, 2 | 3, 4]]", "input: '|' inside brackets: put it between whole arrays, e.g. '[[1, 2]] | [[3, 4]]'."),
    ("[[1, 2]]; [[3, 4]]", "input: ';' after the closing ']': paste one whole array (wrap the rows in one more pair of brackets), "
                           "or separate arrays by '|'."),
    ("[1, 2]\n[3, 4]", "input: '[' after the closing ']': paste one whole array (wrap the rows in one more pair of brackets), "
                       "or separate arrays by '|'."),
    ("1, 2; [3, 4]", "input: unexpected '[' in row 2: type plain rows like '1, 2; 3, 4' (';' or a new line between rows, "
                     "'|' between channels), or paste one whole array in brackets."),
    ("1, 2]", "input: unexpected ']' in row 1: type plain rows like '1, 2; 3, 4' (';' or a new line between rows, "
              "'|' between channels), or paste one whole array in brackets."),
    ("[[1; 2]]", "input: ';' inside brackets is not understood: inside a pasted array separate numbers by commas or spaces."),
    ("[[1, 2]", "input: a '[' is never closed: add the missing ']'."),
    ("array([[1, 2]]", "input: 'array(' is not closed: add the ')' at the end."),
    ("array(5)", "input: expected '[' after 'array(': paste the whole array, brackets included."),
    ("[[[[1]]]]", "input: too many levels of brackets: at most 3 are read (channels, rows, columns)."),
])
def test_grid_errors(text, expected):
    assert message(parse_grid, text) == expected


def test_text_longer_than_max_chars_is_refused_unread():
    text = "1," * (MAX_CHARS // 2) + "1"
    assert len(text) == 4001
    assert message(parse_grid, text) == "input: the text has 4001 characters; at most 4000 are read."
    assert message(parse_vector, "abc" * 20, max_chars=50) == "bias: the text has 60 characters; at most 50 are read."
    assert message(parse_kernels, "1," * 3000, 1, 1, 1, 1).startswith("kernel: the text has 6000 characters")


def test_what_names_the_thing_being_read():
    assert message(parse_grid, "1, x", what="dout") == "dout: 'x' in row 1, column 2 is not a number."


@pytest.mark.parametrize("text,expected", [
    ("1, 2, 3, nan", "bias: nan in position 4 is not allowed: " + LIMIT),
    ("1; 2\n 3, x", "bias: 'x' in position 4 is not a number."),
    ("[1, 2, 2e6]", "bias: 2e6 in position 3 is outside ±1e6: " + LIMIT),
    ("1 | 2", "bias: '|' is not used here: type one list of numbers like '0.5, -1, 2'."),
    ("[[1, 2]]", "bias: too many levels of brackets: at most 1 are read (one flat list)."),
    ("1, [2]", "bias: unexpected '[' after position 1: type numbers like '0.5, -1, 2', or paste one list in brackets."),
    ("", "bias: nothing typed: type numbers like '0.5, -1, 2'."),
])
def test_vector_errors(text, expected):
    assert message(parse_vector, text) == expected


# ------------------------------------------------------------------------------------- quoting the user's text

LONG_JUNK = st.text(alphabet="qzxjkvwQZXJ_#@!~^&*0123456789.+-", min_size=20, max_size=300).map(lambda s: "q" + s)  # never a number


@pytest.mark.parametrize("text", [
    "abcdefghijklmnopqrstuvwxyz0123456789",
    "1, 2; 3, " + "x" * 500,
    "1" * 40,  # outside ±1e6
    "-" * 40,
    "[[1, 2], [3, " + "q" * 60 + "]]",
    "1, 2 | " + "é" * 30,
    "array([[1, 2]], dtype=" + "z" * 40 + ")",
    "nan" * 10,
])
def test_messages_quote_at_most_20_characters(text):
    msg = message(parse_grid, text)
    assert echoes_at_most_20(text, msg), msg


@settings(deadline=None)
@given(LONG_JUNK, st.integers(0, 5), st.sampled_from([parse_grid, parse_vector]))
def test_messages_quote_at_most_20_characters_property(junk, where, fn):
    cells = ["1", "2", "3", "4", "5", "6"]
    cells.insert(where, junk)
    text = ", ".join(cells)
    msg = message(fn, text)
    assert echoes_at_most_20(text, msg), msg


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=80), st.text(alphabet="[](),;| \n0123456789.e-+array", max_size=80)))
def test_any_text_gives_an_array_or_a_typed_error(text):
    for fn in (parse_grid, parse_vector, lambda t: parse_kernels(t, 2, 1, 1, 1)):
        try:
            out = fn(text)
        except TypedError as err:
            assert echoes_at_most_20(text, str(err))
        else:
            assert out.dtype == np.float64 and out.size and np.all(np.abs(out) <= MAX_VALUE)
