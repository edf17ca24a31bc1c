"""Training steps written by hand in plain NumPy: the reference a library with autodiff is measured against.

Each builder returns ``step(xb, yb) -> loss``: forward, softmax cross-entropy (its value included),
backward and Adam, float32, as tightly as plain NumPy allows (in-place updates, no autodiff, no
checks). Each computes the same function, with the same layer-by-layer math, as the coursepkg model
of its case in ``workers.py``; ``tests/test_benchmark_steps.py`` checks that, from the same weights,
they give coursepkg's gradients and its losses step after step.

``weights``: the initial parameters as NumPy arrays, in the order of the coursepkg model's
``parameters()`` (Linear weights stored (in, out), convolution weights (O, C, K)); by default they
are drawn here.
"""

from __future__ import annotations

import math

import numpy as np

LR, BETA1, BETA2, EPS = 1e-3, 0.9, 0.999, 1e-8


def _uniform_init(shapes: list[tuple[int, ...]], fan_ins: list[int]) -> list[np.ndarray]:
    """Weights and biases uniform in +-1/sqrt(fan_in), float32, from a fixed seed."""
    rng = np.random.default_rng(0)
    return [rng.uniform(-1 / np.sqrt(f), 1 / np.sqrt(f), s).astype(np.float32) for s, f in zip(shapes, fan_ins)]


def _adam(params: list[np.ndarray]):
    """Adam over a list of arrays, updated in place: returns update(grads)."""
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    t = [0]

    def update(grads: list[np.ndarray]) -> None:
        t[0] += 1
        c1, c2 = 1 - BETA1 ** t[0], 1 - BETA2 ** t[0]
        for p, g, mi, vi in zip(params, grads, m, v):
            mi *= BETA1
            mi += (1 - BETA1) * g
            vi *= BETA2
            vi += (1 - BETA2) * g * g
            p -= (LR / c1) * mi / (np.sqrt(vi / c2) + EPS)

    return update


def _with_adam(params: list[np.ndarray], loss_and_gradients):
    """step(xb, yb) -> loss: the gradients of ``loss_and_gradients``, then Adam. The gradients alone
    stay reachable as ``step.loss_and_gradients(xb, yb) -> (loss, grads)`` (the tests compare them)."""
    adam = _adam(params)

    def step(xb: np.ndarray, yb: np.ndarray) -> float:
        loss, grads = loss_and_gradients(xb, yb)
        adam(grads)
        return loss

    step.loss_and_gradients = loss_and_gradients
    return step


def _softmax_cross_entropy(scores: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of scores (N, V) and its gradient; scores is overwritten."""
    n = scores.shape[0]
    scores -= scores.max(axis=1, keepdims=True)
    rows = np.arange(n)
    picked = scores[rows, labels]  # the label's shifted score, before exp overwrites it
    np.exp(scores, out=scores)
    total = scores.sum(axis=1, keepdims=True)
    loss = float((np.log(total[:, 0]) - picked).sum() / n)
    scores /= total
    scores[rows, labels] -= 1
    scores *= 1.0 / n
    return loss, scores


def mlp_step(sizes: tuple[int, ...], weights: list[np.ndarray] | None = None):
    """MLP sizes[0]-...-sizes[-1] with ReLU between the Linear layers."""
    params = [np.array(w, dtype=np.float32) for w in weights] if weights is not None else _uniform_init(
        [s for a, b in zip(sizes[:-1], sizes[1:]) for s in ((a, b), (b,))],
        [a for a in sizes[:-1] for _ in range(2)])

    def loss_and_gradients(xb: np.ndarray, yb: np.ndarray) -> tuple[float, list[np.ndarray]]:
        acts, h = [xb], xb
        for i in range(0, len(params), 2):
            h = h @ params[i]
            h += params[i + 1]
            if i < len(params) - 2:
                np.maximum(h, 0, out=h)
            acts.append(h)
        loss, d = _softmax_cross_entropy(h, yb)
        grads = [None] * len(params)
        for i in range(len(params) - 2, -1, -2):
            a = acts[i // 2]
            grads[i] = a.T @ d
            grads[i + 1] = d.sum(axis=0)
            if i:
                d = d @ params[i].T
                d *= a > 0
        return loss, grads

    return _with_adam(params, loss_and_gradients)


# The lesson 12 network: three Conv1d(kernel K, padding P)-ReLU-MaxPool(2) stages, then Linear(120, 10).
CNN_LAYERS = ((1, 24, 5, 2), (24, 24, 3, 1), (24, 24, 3, 1))  # (in channels, out channels, K, P)


def cnn_step(weights: list[np.ndarray] | None = None):
    """The MNIST-1D CNN. Activations are stored (channels, positions, examples), examples last, so
    that every kernel tap is one slice of runs of N numbers (coursepkg's conv module explains why)."""
    if weights is None:
        shapes, fan_ins = [], []
        for c, o, k, _ in CNN_LAYERS:
            shapes += [(o, c, k), (o,)]
            fan_ins += [c * k] * 2
        weights = _uniform_init(shapes + [(120, 10), (10,)], fan_ins + [120, 120])
    params = [np.array(w, dtype=np.float32) for w in weights]

    def loss_and_gradients(xb: np.ndarray, yb: np.ndarray) -> tuple[float, list[np.ndarray]]:
        n = xb.shape[0]
        a = xb.transpose(1, 2, 0)  # (1, L, N), a view
        saved = []
        for i, (c, o, k, p) in enumerate(CNN_LAYERS):
            length = a.shape[1]
            padded = np.zeros((c, length + 2 * p, n), np.float32)
            padded[:, p:p + length] = a
            cols = np.stack([padded[:, t:t + length] for t in range(k)], axis=1).reshape(c * k, length * n)
            z = params[2 * i].reshape(o, c * k) @ cols
            z += params[2 * i + 1][:, None]
            h = z.reshape(o, length, n)
            np.maximum(h, 0, out=h)  # ReLU in place
            even, odd = h[:, 0::2], h[:, 1::2]
            first_wins = (even >= odd).astype(np.float32)  # max pooling: which of the two won
            a = np.maximum(even, odd)
            saved.append((cols, h, first_wins))
        flat = a.transpose(2, 0, 1).reshape(n, -1)  # (N, 120) in (channel, position) order
        scores = flat @ params[6]
        scores += params[7]
        loss, d = _softmax_cross_entropy(scores, yb)
        grads = [None] * len(params)
        grads[6], grads[7] = flat.T @ d, d.sum(axis=0)
        d = (d @ params[6].T).reshape(n, *a.shape[:2]).transpose(1, 2, 0)  # (C, 5, N)
        for i in range(len(CNN_LAYERS) - 1, -1, -1):
            c, o, k, p = CNN_LAYERS[i]
            cols, h, first_wins = saved[i]
            dh = np.empty_like(h)
            dh[:, 0::2] = d * first_wins
            np.subtract(d, dh[:, 0::2], out=dh[:, 1::2])
            dh *= h > 0  # ReLU
            d_rows = dh.reshape(o, -1)
            grads[2 * i] = (cols @ d_rows.T).T.reshape(o, c, k)
            grads[2 * i + 1] = d_rows.sum(axis=1)
            if i:  # col2im: each tap's gradient added back onto the positions it read
                dcols = (params[2 * i].reshape(o, c * k).T @ d_rows).reshape(c, k, h.shape[1], n)
                length = h.shape[1]
                d = dcols[:, p].copy()  # the centre tap read every position once
                for t in range(k):
                    shift = t - p
                    if shift > 0:  # input position l + shift got output position l's gradient
                        d[:, shift:] += dcols[:, t, :length - shift]
                    elif shift < 0:
                        d[:, :length + shift] += dcols[:, t, -shift:]
        return loss, grads

    return _with_adam(params, loss_and_gradients)


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, ones: np.ndarray):
    """Rows x (R, D) standardized, scaled and shifted; row sums as products with a ones vector
    (OpenBLAS sums 32 numbers per row faster than np.sum does). Returns (out, cache)."""
    d = x.shape[1]
    centered = x - (x @ ones)[:, None] / d
    inv_std = 1 / np.sqrt((centered * centered) @ ones / d + 1e-5)[:, None]
    centered *= inv_std  # now xhat
    out = centered * gamma
    out += beta
    return out, (centered, inv_std)


def _layer_norm_backward(dout: np.ndarray, cache, gamma: np.ndarray, ones: np.ndarray):
    """(dx, dgamma, dbeta) of :func:`_layer_norm`."""
    xhat, inv_std = cache
    d = dout.shape[1]
    dxhat = dout * gamma
    dgamma, dbeta = (dout * xhat).sum(axis=0), dout.sum(axis=0)
    dx = dxhat * d
    dx -= (dxhat @ ones)[:, None]
    dx -= xhat * ((dxhat * xhat) @ ones)[:, None]
    dx *= inv_std / d
    return dx, dgamma, dbeta


# GELU, tanh approximation: 0.5 x (1 + tanh(a x + b x^3)). Python floats: a NumPy float64 scalar
# would turn every float32 array it touches into float64.
_A = math.sqrt(2 / math.pi)
_B = 0.044715 * _A


def transformer_step(weights: list[np.ndarray] | None = None, vocab: int = 10, length: int = 8, dim: int = 32,
                     heads: int = 2, mlp_ratio: int = 2):
    """The lesson 13 TinyTransformer: token and position embeddings, one pre-norm block (multi-head
    self-attention, then Linear-GELU-Linear, each around a residual), LayerNorm, Linear head. Every
    activation is kept as rows (B * T, D)."""
    hidden, hd = mlp_ratio * dim, dim // heads
    if weights is None:
        rng = np.random.default_rng(0)
        lin = _uniform_init([(dim, 3 * dim), (3 * dim,), (dim, dim), (dim,), (dim, hidden), (hidden,),
                             (hidden, dim), (dim,), (dim, vocab), (vocab,)], [dim, dim, dim, dim, dim, dim,
                                                                               hidden, hidden, dim, dim])
        ln = [np.ones(dim, np.float32), np.zeros(dim, np.float32)]
        weights = ([(rng.standard_normal((vocab, dim)) * 0.5).astype(np.float32),
                    (rng.standard_normal((length, dim)) * 0.5).astype(np.float32)]
                   + ln + lin[:4] + ln + lin[4:8] + ln + lin[8:])
    params = [np.array(w, dtype=np.float32) for w in weights]
    (embed, position, g1, b1, w_qkv, b_qkv, w_proj, b_proj, g2, b2, w_fc1, b_fc1, w_fc2, b_fc2, g3, b3,
     w_head, b_head) = params
    ones = np.ones(dim, np.float32)
    eye = np.eye(vocab, dtype=np.float32)
    scale = np.float32(1 / np.sqrt(hd))

    def loss_and_gradients(tokens: np.ndarray, targets: np.ndarray) -> tuple[float, list[np.ndarray]]:
        batch, t = tokens.shape
        rows = batch * t
        one_hot_tokens = eye[tokens.reshape(-1)]  # (R, V)
        x0 = (one_hot_tokens @ embed).reshape(batch, t, dim)
        x0 += position[:t]
        x0 = x0.reshape(rows, dim)
        # attention branch
        h1, ln1 = _layer_norm(x0, g1, b1, ones)
        qkv = h1 @ w_qkv
        qkv += b_qkv
        q, k, v = qkv.reshape(batch, t, 3, heads, hd).transpose(2, 0, 3, 1, 4)  # each (B, H, T, hd)
        p = q @ k.transpose(0, 1, 3, 2)
        p *= scale
        p -= p.max(axis=-1, keepdims=True)
        np.exp(p, out=p)
        p /= p.sum(axis=-1, keepdims=True)  # the attention weights
        att = (p @ v).transpose(0, 2, 1, 3).reshape(rows, dim)
        x1 = att @ w_proj
        x1 += b_proj
        x1 += x0
        # MLP branch
        h2, ln2 = _layer_norm(x1, g2, b2, ones)
        m = h2 @ w_fc1
        m += b_fc1
        m2 = m * m
        u = _B * m2
        u += _A
        u *= m
        one_plus_tanh = np.tanh(u)
        one_plus_tanh += 1
        gelu = m * one_plus_tanh
        gelu *= 0.5
        x2 = gelu @ w_fc2
        x2 += b_fc2
        x2 += x1
        h3, ln3 = _layer_norm(x2, g3, b3, ones)
        scores = h3 @ w_head
        scores += b_head
        loss, d = _softmax_cross_entropy(scores, targets.reshape(-1))
        # backward
        grads = [None] * len(params)
        grads[16], grads[17] = h3.T @ d, d.sum(axis=0)
        dx2, grads[14], grads[15] = _layer_norm_backward(d @ w_head.T, ln3, g3, ones)
        grads[12], grads[13] = gelu.T @ dx2, dx2.sum(axis=0)
        dm = dx2 @ w_fc2.T  # times the GELU derivative (1 + t)(0.5 + 0.5 m (a + 3 b m^2)(1 - t)):
        slope = (1.5 * _B) * m2
        slope += 0.5 * _A
        slope *= m
        slope *= 2 - one_plus_tanh
        slope += 0.5
        slope *= one_plus_tanh
        dm *= slope
        grads[10], grads[11] = h2.T @ dm, dm.sum(axis=0)
        dx1, grads[8], grads[9] = _layer_norm_backward(dm @ w_fc1.T, ln2, g2, ones)
        dx1 += dx2
        grads[6], grads[7] = att.T @ dx1, dx1.sum(axis=0)
        datt = (dx1 @ w_proj.T).reshape(batch, t, heads, hd).transpose(0, 2, 1, 3)
        dv = p.transpose(0, 1, 3, 2) @ datt
        dp = datt @ v.transpose(0, 1, 3, 2)
        dp -= (dp * p).sum(axis=-1, keepdims=True)
        dp *= p
        dp *= scale  # d(scores before scaling)
        dq, dk = dp @ k, dp.transpose(0, 1, 3, 2) @ q
        dqkv = np.stack([g.transpose(0, 2, 1, 3) for g in (dq, dk, dv)], axis=2).reshape(rows, 3 * dim)
        grads[4], grads[5] = h1.T @ dqkv, dqkv.sum(axis=0)
        dx0, grads[2], grads[3] = _layer_norm_backward(dqkv @ w_qkv.T, ln1, g1, ones)
        dx0 += dx1
        grads[1] = np.zeros_like(position)
        grads[1][:t] = dx0.reshape(batch, t, dim).sum(axis=0)
        grads[0] = one_hot_tokens.T @ dx0
        return loss, grads

    return _with_adam(params, loss_and_gradients)
