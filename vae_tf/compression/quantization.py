"""Probabilities as the integers the entropy coder uses, and latent bins of equal prior mass.

The coder (``constriction``'s ``AnsCoder`` with a lazy ``Categorical`` model) works with
24-bit fixed-point probabilities. Given weights ``w_j`` it codes symbol ``j`` with

    P(j) = (floor(W_j * s) - floor(W_{j-1} * s) + 1) / 2^24,    W_j = w_0 + ... + w_j,
    s = (2^24 - n) / W_{n-1}                                   (n symbols)

(``lazy_contiguous.rs``; the last symbol takes what is left up to 2^24). When the weights
are non-negative integers that sum to exactly ``2^24 - n``, ``s = 1`` and every partial sum
is exact in float32, so ``P(j) = (w_j + 1) / 2^24`` exactly: the coded probability is a
known integer ratio, and :func:`coded_log2_probabilities` gives the bits each symbol costs.

The weights are computed from the model's probabilities by one deterministic function of
the same float tensors on both sides (floor, then the remainder to the most probable
symbol, in integer arithmetic), so the encoder and the decoder hand the coder identical
integers.
"""

import numpy as np
import tensorflow as tf

from vae_tf.argument_checks import check_integer

#: Fixed-point precision of constriction's default ``AnsCoder`` models, in bits.
CODER_PRECISION = 24


def weight_total(num_symbols):
    """``2^24 - n``: what the integer weights of ``n`` symbols sum to."""
    return 2**CODER_PRECISION - int(num_symbols)


def integer_weights(probabilities):
    """Integer weights ``w`` (as float32) with ``sum_j w_j = 2^24 - n`` from probabilities ``(..., n)``.

    Formula: ``w_j = floor(p_j * T)`` with ``p`` renormalised over the last axis and
    ``T = 2^24 - n``; the remainder ``T - sum_j w_j`` (in int32, exact: every sum is below
    2^31) goes to the first most probable symbol. The coder then uses ``P(j) = (w_j + 1) / 2^24``
    (module docstring): every symbol keeps probability >= 2^-24, so no symbol is uncodable.
    int32 rather than int64 and a select rather than a one-hot product: the same integers in
    about half the time on a ``(78400, 256)`` table.
    """
    p = tf.convert_to_tensor(probabilities)
    n = int(p.shape[-1])
    total = weight_total(n)
    p = p / tf.reduce_sum(p, axis=-1, keepdims=True)
    w = tf.cast(tf.clip_by_value(tf.floor(p * total), 0.0, float(total)), tf.int32)
    remainder = total - tf.reduce_sum(w, axis=-1, keepdims=True)
    top = tf.argmax(w, axis=-1, output_type=tf.int32)[..., None]
    w = w + tf.where(tf.range(n) == top, remainder, tf.zeros_like(remainder))
    return tf.cast(w, tf.float32)


def coded_log2_probabilities(weights, symbols):
    """``log2 P(symbol)`` that the coder uses for each row of integer ``weights`` ``(m, n)``."""
    w = np.take_along_axis(np.asarray(weights), np.asarray(symbols, np.intp)[:, None], axis=1)[:, 0]
    return np.log2(w.astype(np.float64) + 1.0) - CODER_PRECISION


def coded_entropy_bits(weights):
    """Expected bits to code one symbol from each row of ``weights``: ``-sum_j P_j log2 P_j``, summed over rows."""
    p = (np.asarray(weights, np.float64) + 1.0) / 2.0**CODER_PRECISION
    return float(-np.sum(p * np.log2(p)))


class EqualMassBins:
    """``2^bits`` bins per latent unit of equal mass under ``p(z) = N(0, 1)`` (Townsend et al., 2019).

    Bin ``i`` spans ``[Phi^-1(i / N), Phi^-1((i + 1) / N)]``, ``N = 2^bits``; under the prior
    each bin has mass ``1/N`` exactly, so pushing a latent under the prior costs ``bits``
    bits. Its representative value, the one the decoder network sees, is the prior median
    of the bin, ``Phi^-1((i + 1/2) / N)``. The posterior ``q(z|x) = N(mu, sigma^2)`` gives bin
    ``i`` the mass ``Phi((e_{i+1} - mu) / sigma) - Phi((e_i - mu) / sigma)`` (float64).
    """

    def __init__(self, bits):
        self.bits = check_integer(bits, "latent_bits", minimum=1, maximum=16)
        self.count = 2**self.bits
        n = self.count
        inner = tf.math.ndtri(tf.range(1, n, dtype=tf.float64) / n)
        self.edges = inner  # the n - 1 finite edges; the outer ones are -inf and +inf
        self.centres = tf.cast(tf.math.ndtri((tf.range(n, dtype=tf.float64) + 0.5) / n), tf.float32)

    def values(self, indices):
        """The latent values ``(rows, latent)`` float32 that represent bin ``indices``."""
        return tf.gather(self.centres, indices)

    def posterior_masses(self, loc, scale):
        """``(rows, latent, 2^bits)`` float64 masses of each bin under ``N(loc, scale^2)``."""
        loc = tf.cast(loc, tf.float64)[..., None]
        scale = tf.cast(scale, tf.float64)[..., None]
        cdf = 0.5 * tf.math.erfc((loc - self.edges) / (scale * np.sqrt(2.0)))  # Phi((e - mu) / sigma)
        zeros = tf.zeros_like(cdf[..., :1])
        return tf.concat([cdf, zeros + 1.0], -1) - tf.concat([zeros, cdf], -1)
