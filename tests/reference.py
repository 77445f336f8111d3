"""An independent reference, written from the definitions in docs/teaching.md with plain loops.

It does not import convviz: the engine is tested against it, not against itself.
"""
import numpy as np


def pad4(x, top, bottom, left, right, value=0.0):
    """x (N, C, H, W) -> a new array with the four sides padded by `value`."""
    N, C, H, W = x.shape
    out = np.full((N, C, H + top + bottom, W + left + right), value, dtype=np.float64)
    out[:, :, top : top + H, left : left + W] = x
    return out


def out_size(size, lo, hi, k, s, d):
    return (size + lo + hi - (d * (k - 1) + 1)) // s + 1


def conv_forward(x, w, b, stride, pads, dil):
    """y[n,f,i,j] = b[f] + sum_{c,u,v} w[f,c,u,v] * xpad[n, c, i*SH + u*DH, j*SW + v*DW]."""
    (sh, sw), (top, bottom, left, right), (dh, dw) = stride, pads, dil
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    xp = pad4(x, top, bottom, left, right)
    OH, OW = out_size(H, top, bottom, KH, sh, dh), out_size(W, left, right, KW, sw, dw)
    y = np.zeros((N, F, OH, OW))
    for n in range(N):
        for f in range(F):
            for i in range(OH):
                for j in range(OW):
                    acc = 0.0 if b is None else float(b[f])
                    for c in range(C):
                        for u in range(KH):
                            for v in range(KW):
                                acc += w[f, c, u, v] * xp[n, c, i * sh + u * dh, j * sw + v * dw]
                    y[n, f, i, j] = acc
    return y


def conv_backward(dout, x, w, stride, pads, dil):
    """dx, dw, db of L = sum(y * dout), by the chain rule applied to every term of the forward sum."""
    (sh, sw), (top, bottom, left, right), (dh, dw_) = stride, pads, dil
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    xp = pad4(x, top, bottom, left, right)
    dxp = np.zeros_like(xp)
    dw = np.zeros(w.shape)
    db = np.zeros(F)
    _, _, OH, OW = dout.shape
    for n in range(N):
        for f in range(F):
            for i in range(OH):
                for j in range(OW):
                    g = dout[n, f, i, j]
                    db[f] += g
                    for c in range(C):
                        for u in range(KH):
                            for v in range(KW):
                                r, q = i * sh + u * dh, j * sw + v * dw_
                                dw[f, c, u, v] += g * xp[n, c, r, q]
                                dxp[n, c, r, q] += g * w[f, c, u, v]
    return dxp[:, :, top : top + H, left : left + W], dw, db


def unfold(x, k, stride, pad, dil):
    """Like torch.nn.functional.unfold: (N, C*KH*KW, L), rows (c, u, v), columns (oh, ow)."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = k, stride, pad, dil
    N, C, H, W = x.shape
    xp = pad4(x, ph, ph, pw, pw)
    OH, OW = out_size(H, ph, ph, kh, sh, dh), out_size(W, pw, pw, kw, sw, dw)
    cols = np.zeros((N, C * kh * kw, OH * OW))
    for n in range(N):
        for c in range(C):
            for u in range(kh):
                for v in range(kw):
                    for i in range(OH):
                        for j in range(OW):
                            cols[n, (c * kh + u) * kw + v, i * OW + j] = xp[n, c, i * sh + u * dh, j * sw + v * dw]
    return cols


def fold(cols, size, k, stride, pad, dil):
    """Like torch.nn.functional.fold: every column added back where unfold read it."""
    (H, W), (kh, kw), (sh, sw), (ph, pw), (dh, dw) = size, k, stride, pad, dil
    N = cols.shape[0]
    C = cols.shape[1] // (kh * kw)
    OH, OW = out_size(H, ph, ph, kh, sh, dh), out_size(W, pw, pw, kw, sw, dw)
    xp = np.zeros((N, C, H + 2 * ph, W + 2 * pw))
    for n in range(N):
        for c in range(C):
            for u in range(kh):
                for v in range(kw):
                    for i in range(OH):
                        for j in range(OW):
                            xp[n, c, i * sh + u * dh, j * sw + v * dw] += cols[n, (c * kh + u) * kw + v, i * OW + j]
    return xp[:, :, ph : ph + H, pw : pw + W]


def maxpool_forward_backward(x, dout, k, stride, pad, dil):
    """Max pooling with -inf padding; backward sends each dout to the first maximum in row-major order."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = k, stride, pad, dil
    N, C, H, W = x.shape
    xp = pad4(x, ph, ph, pw, pw, value=-np.inf)
    OH, OW = out_size(H, ph, ph, kh, sh, dh), out_size(W, pw, pw, kw, sw, dw)
    y = np.zeros((N, C, OH, OW))
    dxp = np.zeros(xp.shape)
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    best, where = -np.inf, None
                    for u in range(kh):
                        for v in range(kw):
                            r, q = i * sh + u * dh, j * sw + v * dw
                            if where is None or xp[n, c, r, q] > best:  # strict: the first maximum keeps it
                                best, where = xp[n, c, r, q], (r, q)
                    y[n, c, i, j] = best
                    if dout is not None:
                        dxp[n, c, where[0], where[1]] += dout[n, c, i, j]
    return y, dxp[:, :, ph : ph + H, pw : pw + W]
