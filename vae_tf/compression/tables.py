"""From probabilities to the coder's integers: the level tables of a decoder (CDF differences in float32 for the
discretized normal and the logistic mixture, a softmax for the others; the coupled colour channels one at a
time) and their quantization to integer weights that sum to the coder's total, plus equal-mass latent bins.
"""

import numpy as np
import tensorflow as tf

from vae_tf.errors import check_integer
from vae_tf.distributions.discretized import ndtr, thresholds
from vae_tf.distributions.logistic_mixture import DiscretizedLogisticMixture
from vae_tf.distributions.discretized_normal import DiscretizedNormal
from vae_tf.distributions.categorical import FactoredLevelCategorical, LevelCategorical


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


def per_value_distribution(px):
    """The distribution of each value (``tfd.Independent``'s inner one, or ``px`` itself)."""
    return getattr(px, "distribution", px)


def _masses_from_cdf(cdf):
    """``(*batch, L)`` bin masses from the CDF ``(*batch, L - 1)`` at the inner edges (differences, clipped at 0)."""
    zeros = tf.zeros_like(cdf[..., :1])
    upper = tf.concat([cdf, zeros + 1.0], axis=-1)
    lower = tf.concat([zeros, cdf], axis=-1)
    return tf.maximum(upper - lower, 0.0)


def _discretized_normal_probabilities(d):
    t = thresholds(d.num_levels, tf.float32)
    loc = tf.cast(d.loc, tf.float32)[..., None]
    scale = tf.cast(d.scale, tf.float32)[..., None]
    shape = tf.broadcast_dynamic_shape(tf.shape(loc), tf.shape(scale))
    cdf = ndtr((t - tf.broadcast_to(loc, shape)) / tf.broadcast_to(scale, shape))
    return _masses_from_cdf(cdf)


def _mixture_cdf_masses(weights, loc, scale, num_levels):
    """``(..., L)`` masses of ``sum_i weights_i Logistic(loc_i, scale_i)`` on the bins, from ``(..., K)`` parameters."""
    t = thresholds(num_levels, tf.float32)[:, None]  # (L - 1, 1) against (..., 1, K)
    loc = tf.cast(loc, tf.float32)[..., None, :]
    scale = tf.cast(scale, tf.float32)[..., None, :]
    cdf = tf.reduce_sum(tf.cast(weights, tf.float32)[..., None, :] * tf.sigmoid((t - loc) / scale), axis=-1)
    return _masses_from_cdf(cdf)


def _logistic_mixture_probabilities(d):
    weights = tf.nn.softmax(tf.cast(d.logits, tf.float32), axis=-1)
    probs = _mixture_cdf_masses(weights, d.loc, d.scale, d.num_levels)
    return tf.broadcast_to(probs, tf.concat([d.batch_shape_tensor(), [d.num_levels]], 0))


def level_probabilities(px):
    """``P(level k)`` of every value of ``p(x|z)``: ``(rows, *event_shape, L)`` float32, rows summing to ~1."""
    d = per_value_distribution(px)
    # type(...) is, not isinstance: a subclass (e.g. one coupling channels) may compute other masses.
    if type(d) is DiscretizedNormal:
        return _discretized_normal_probabilities(d)
    if type(d) is DiscretizedLogisticMixture:
        return _logistic_mixture_probabilities(d)
    if type(d) in (LevelCategorical, FactoredLevelCategorical):
        return tf.nn.softmax(tf.cast(d.logits, tf.float32), axis=-1)
    return tf.nn.softmax(tf.cast(d.bin_log_probs(), tf.float32), axis=-1)


def has_coupled_channels(px):
    """True when the values of a pixel are coded channel by channel (the distribution has ``channel_bin_log_probs``)."""
    return hasattr(per_value_distribution(px), "channel_bin_log_probs")


def channel_level_probabilities(px, x, channel):
    """``P(x_c = k | z, x_{<c})`` of channel ``c``: ``(rows, H, W, L)`` float32 from ``channel_bin_log_probs(x, channel=c)``.

    ``x`` holds the values ``k / (L - 1)`` of the channels known so far (the others zero).
    """
    d = per_value_distribution(px)
    if hasattr(d, "channel_conditional_mixture"):  # a mixture of logistics given x_{<c}: CDF differences as above
        log_w, loc, scale = (t[..., 0, :] for t in d.channel_conditional_mixture(x, channel))
        return _mixture_cdf_masses(tf.exp(tf.cast(log_w, tf.float32)), loc, scale, d.num_levels)
    log_probs = d.channel_bin_log_probs(x, channel=channel)
    return tf.nn.softmax(tf.cast(log_probs, tf.float32), axis=-1)
