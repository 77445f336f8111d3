"""Tiny cases computed by hand (each is also a good teaching example)."""
import numpy as np

import convviz as cv


def test_3x3_ids_with_2x2_ones():
    # x = [[0,1,2],[3,4,5],[6,7,8]], w = ones(2,2): each output is the sum of a 2x2 block
    # y[0,0] = 0+1+3+4 = 8, y[0,1] = 1+2+4+5 = 12, y[1,0] = 3+4+6+7 = 20, y[1,1] = 4+5+7+8 = 24
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    for method in cv.FORWARD_METHODS:
        np.testing.assert_array_equal(cv.conv2d(x, np.ones((1, 1, 2, 2)), method=method)[0, 0], [[8, 12], [20, 24]])


def test_kernel_is_not_flipped_in_the_forward_pass():
    # cross-correlation: w = [[1, 0], [0, 0]] picks the window's top-left cell, so y = x[:-1, :-1]
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    w = np.array([[[[1.0, 0.0], [0.0, 0.0]]]])
    np.testing.assert_array_equal(cv.conv2d(x, w)[0, 0], [[0, 1], [3, 4]])


def test_stride_two_remainder_row_gets_zero_gradient():
    # H = 4, K = 3, S = 2: OH = floor((4 - 3)/2) + 1 = 1 and r = (4 - 3) mod 2 = 1, so row 3 is never read.
    # With dout = 1 and w = ones, dx is 1 on the 3x3 block the only window covers and 0 on the last row/column.
    x = np.zeros((1, 1, 4, 4))
    for method in cv.BACKWARD_METHODS:
        dx, dw, db = cv.conv2d_backward(np.ones((1, 1, 1, 1)), x, np.ones((1, 1, 3, 3)), stride=2, method=method)
        expected = np.zeros((4, 4))
        expected[:3, :3] = 1
        np.testing.assert_array_equal(dx[0, 0], expected, err_msg=method)
        assert db[0] == 1


def test_overlapping_windows_accumulate_in_dx():
    # 3x3 input, 2x2 kernel of ones, stride 1, dout = ones(2,2): the centre cell is in all 4 windows.
    dx, _, _ = cv.conv2d_backward(np.ones((1, 1, 2, 2)), np.zeros((1, 1, 3, 3)), np.ones((1, 1, 2, 2)))
    np.testing.assert_array_equal(dx[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


def test_weight_gradient_is_input_correlated_with_dout():
    # x = ids 3x3, dout = [[1, 0], [0, 0]] (only y[0,0] matters): dw = the top-left 2x2 window [[0,1],[3,4]]
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    dout = np.array([[[[1.0, 0.0], [0.0, 0.0]]]])
    _, dw, db = cv.conv2d_backward(dout, x, np.zeros((1, 1, 2, 2)))
    np.testing.assert_array_equal(dw[0, 0], [[0, 1], [3, 4]])
    assert db[0] == 1


def test_dilated_kernel_skips_cells():
    # 1x5 input [0..4], kernel [1, 1] with dilation 2: y = [x0+x2, x1+x3, x2+x4] = [2, 4, 6]
    x = np.arange(5.0).reshape(1, 1, 1, 5)
    np.testing.assert_array_equal(cv.conv2d(x, np.ones((1, 1, 1, 2)), dilation=(1, 2))[0, 0, 0], [2, 4, 6])


def test_max_pool_tie_goes_to_first_and_overlaps_add():
    # x = [[1, 1], [1, 1]] pooled 2x2: all tie, the gradient goes to (0, 0) only
    dx = cv.max_pool2d_backward(np.array([[[[5.0]]]]), np.ones((1, 1, 2, 2)), 2)
    np.testing.assert_array_equal(dx[0, 0], [[5, 0], [0, 0]])
    # 1x3 input [0, 9, 0], pool 1x2 stride 1: both windows pick the 9, their gradients 2 and 3 add up to 5
    dx = cv.max_pool2d_backward(np.array([[[[2.0, 3.0]]]]), np.array([[[[0.0, 9.0, 0.0]]]]), (1, 2), 1)
    np.testing.assert_array_equal(dx[0, 0, 0], [0, 5, 0])


def test_padding_never_wins_max_pool():
    # all inputs negative: with padding 1 a window could hold mostly padding, but padding is -inf
    x = -np.ones((1, 1, 2, 2))
    np.testing.assert_array_equal(cv.max_pool2d(x, 2, 1, 1)[0, 0], -np.ones((3, 3)))


def test_col2im_of_im2col_counts_overlaps():
    # 3x3 ones, 2x2 windows stride 1: col2im(im2col(x)) = x * [[1,2,1],[2,4,2],[1,2,1]]
    x = np.ones((1, 1, 3, 3))
    np.testing.assert_array_equal(cv.col2im(cv.im2col(x, 2), (3, 3), 2)[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


def test_im2col_indices_for_a_small_case():
    # C=1, K=2x2, stride 1, 3x3 input -> OH=OW=2
    # i0 = DH*u repeated KW times = [0, 0, 1, 1]; i1 = SH*oh repeated OW times = [0, 0, 1, 1]
    # j0 = DW*v tiled = [0, 1, 0, 1];              j1 = SW*ow tiled OH times = [0, 1, 0, 1]
    idx = cv.im2col_indices(cv.ConvSpec.create(3, 3, 2))
    np.testing.assert_array_equal(idx.i0, [0, 0, 1, 1])
    np.testing.assert_array_equal(idx.i1, [0, 0, 1, 1])
    np.testing.assert_array_equal(idx.j0, [0, 1, 0, 1])
    np.testing.assert_array_equal(idx.j1, [0, 1, 0, 1])
    np.testing.assert_array_equal(idx.k, [0, 0, 0, 0])
    np.testing.assert_array_equal(idx.i[:, 3], [1, 1, 2, 2])  # column 3 = window (1, 1): rows 1, 1, 2, 2
