"""The probability of every level of every sub-pixel, ``(*batch, L)``, computed the cheap way for each decoder.

The coder needs one row of ``L`` probabilities per coded value. ``bin_log_probs()`` gives them
as log-masses, accurate far into the tails (float64 bin ends, two softplus and a log1mexp per
level and component, then a logsumexp over the ``K`` components); on a batch of 100 MNIST
images a mixture of 5 logistics builds ``100 x 784 x 256 x 5`` such terms, 95% of the time
``compress`` spent. The coder does not need that accuracy: it rounds every probability to a
multiple of ``2^-24`` (``quantization``). So for the location-scale decoders the table comes
from the CDF at the ``L - 1`` bin edges ``t_j = (j - 1/2) / (L - 1)``, in float32::

    P(k) = F(t_{k+1}) - F(t_k),   F(t_0) = 0, F(t_L) = 1  (the edge bins take the tails)

    discretized normal:    F(t) = Phi((t - loc) / scale)
    logistic mixture:      F(t) = sum_i pi_i sigmoid((t - loc_i) / scale_i),   pi = softmax(logits)

one transcendental per edge and component. Float32's absolute error, ~1e-7, is the coder's own
resolution (``2^-24 = 6e-8``), so the coded bits barely move (the tests compare them with the
model's log-probabilities). The categorical is ``softmax(logits)``; any other decoder with
``bin_log_probs()`` (the Bernoulli) is ``softmax(bin_log_probs())``.

A decoder whose colour channels depend on each other has ``channel_bin_log_probs(x, channel=c)``
(channel ``c`` given the channels ``< c`` of ``x``); :func:`channel_level_probabilities` turns it
into probabilities: CDF differences when it says which mixture of logistics each channel is
(``channel_conditional_mixture``, the coupled logistic mixture), else a softmax.

The compressor and the decompressor run these functions inside one compiled program on identical
inputs, so whatever rounding float32 does, both sides see the same numbers.
"""

import tensorflow as tf

from vae_tf.distributions.bin_grid import thresholds
from vae_tf.distributions.discretized_logistic_mixture import DiscretizedLogisticMixture
from vae_tf.distributions.discretized_normal import DiscretizedNormal
from vae_tf.distributions.level_categorical import LevelCategorical
from vae_tf.distributions.special_functions import ndtr


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
    t = thresholds(d.num_bins, tf.float32)
    loc = tf.cast(d.loc, tf.float32)[..., None]
    scale = tf.cast(d.scale, tf.float32)[..., None]
    shape = tf.broadcast_dynamic_shape(tf.shape(loc), tf.shape(scale))
    cdf = ndtr((t - tf.broadcast_to(loc, shape)) / tf.broadcast_to(scale, shape))
    return _masses_from_cdf(cdf)


def _mixture_cdf_masses(weights, loc, scale, num_bins):
    """``(..., L)`` masses of ``sum_i weights_i Logistic(loc_i, scale_i)`` on the bins, from ``(..., K)`` parameters."""
    t = thresholds(num_bins, tf.float32)[:, None]  # (L - 1, 1) against (..., 1, K)
    loc = tf.cast(loc, tf.float32)[..., None, :]
    scale = tf.cast(scale, tf.float32)[..., None, :]
    cdf = tf.reduce_sum(tf.cast(weights, tf.float32)[..., None, :] * tf.sigmoid((t - loc) / scale), axis=-1)
    return _masses_from_cdf(cdf)


def _logistic_mixture_probabilities(d):
    weights = tf.nn.softmax(tf.cast(d.logits, tf.float32), axis=-1)
    probs = _mixture_cdf_masses(weights, d.loc, d.scale, d.num_bins)
    return tf.broadcast_to(probs, tf.concat([d.batch_shape_tensor(), [d.num_bins]], 0))


def level_probabilities(px):
    """``P(level k)`` of every value of ``p(x|z)``: ``(rows, *event_shape, L)`` float32, rows summing to ~1."""
    d = per_value_distribution(px)
    # type(...) is, not isinstance: a subclass (e.g. one coupling channels) may compute other masses.
    if type(d) is DiscretizedNormal:
        return _discretized_normal_probabilities(d)
    if type(d) is DiscretizedLogisticMixture:
        return _logistic_mixture_probabilities(d)
    if type(d) is LevelCategorical:
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
        return _mixture_cdf_masses(tf.exp(tf.cast(log_w, tf.float32)), loc, scale, d.num_bins)
    log_probs = d.channel_bin_log_probs(x, channel=channel)
    return tf.nn.softmax(tf.cast(log_probs, tf.float32), axis=-1)
