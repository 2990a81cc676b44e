"""The Normal distribution integrated over the bins of the grey levels: what "MSE with a sigma" is on L-level images."""

import tensorflow as tf
import tensorflow_probability as tfp

from vae_tf.data.levels import check_num_levels
from vae_tf.distributions.discretized import (DiscretizedDistribution, HALF_LOG_2PI, LocationScale, float_dtype,
                                              log1mexp, log_ndtr_plus_half_square, ndtr, normal_pdf,
                                              positive_scale_properties, standardized_bin)

tfd = tfp.distributions

#: Below ``u (|m| + 3) < _NARROW`` a Normal bin's mass comes from the mid-bin series (see
#: :func:`discretized_normal_log_mass`); its first omitted term is then below ``_NARROW**8 / 9! ~ 1e-8``.
_NARROW = 0.5


def discretized_normal_log_mass(k, loc, scale, num_levels):
    """``log P(k)`` of ``N(loc, scale^2)`` integrated over bin ``k`` of ``num_levels`` (element-wise).

    With ``h = 1 / (L - 1)``, standardised bin centre ``m = (k h - loc) / scale``
    and half-width ``u = h / (2 scale)``, bin ``k`` is ``[m - u, m + u]`` in
    standard units and::

        P(k) = Phi(m + u) - Phi(m - u)        0 < k < L-1
        P(0) = Phi(m + u),  P(L-1) = 1 - Phi(m - u) = Phi(u - m)

    computed without ever forming a difference of two probabilities close to 1
    or two log-probabilities far in a tail:

    * Symmetry: an interior bin with ``m > 0`` is reflected to ``-m``
      (``Phi(b) - Phi(a) = Phi(-a) - Phi(-b)``), so the bin lies on the side of
      the mean where ``Phi`` is at most 1/2; ``lo = -|m| - u``, ``hi = -|m| + u``.
    * Log space: ``log P = log Phi(hi) + log(1 - exp(d))``,
      ``d = log Phi(lo) - log Phi(hi)``. For ``hi <= 0`` both logs are written as
      ``G(y) - y^2 / 2`` with ``G(y) = log(erfcx(|y| / sqrt 2) / 2)`` slowly
      varying, so ``d = G(lo) - G(hi) - 2 |m| u`` has no cancellation even
      ``1e7`` standard deviations into a tail; for ``hi > 0``,
      ``log Phi(hi) = log(1 - Phi(-hi))``.
    * Narrow bins, ``u (|m| + 3) < 1/2``, where ``d`` is the small difference of
      two nearly equal numbers: the mid-bin density times the width with its
      exact correction series (PixelCNN++'s mid-bin fallback, made exact)::

          P(k) = 2 u phi(m) [1 + He2(m) u^2 / 3! + He4(m) u^4 / 5! + He6(m) u^6 / 7! + ...]

      with the Hermite polynomials ``He2 = m^2 - 1``, ``He4 = m^4 - 6 m^2 + 3``,
      ``He6 = m^6 - 15 m^4 + 45 m^2 - 15``; the first omitted term is below 1e-8
      relative.
    * Edge bins are a single ``log Phi`` of the same ``lo`` or ``hi``.

    Every ``tf.where`` branch is evaluated on safe inputs, so gradients are
    finite wherever the value is.

    Args:
        k: levels as floats in ``0 .. L-1`` (integers), broadcastable with ``loc`` and ``scale``.
        loc, scale: the Gaussian's mean and standard deviation (``scale > 0``), on the ``k / (L - 1)`` scale.
        num_levels: ``L``, a Python int >= 2.
    """
    m, u, lo, hi = standardized_bin(k, loc, scale, num_levels, reflect=True)
    flip = m > 0.0
    neg_abs_m = -tf.abs(m)

    g_lo = log_ndtr_plus_half_square(lo)
    g_hi = log_ndtr_plus_half_square(hi)
    log_cdf_lo = g_lo - 0.5 * tf.square(lo)  # log Phi(lo), lo < 0
    log_cdf_minus_abs_hi = g_hi - 0.5 * tf.square(hi)  # log Phi(-|hi|) <= log 1/2
    log_sf_abs_hi = tf.math.log1p(-tf.exp(log_cdf_minus_abs_hi))  # log Phi(|hi|)
    hi_positive = hi > 0.0
    log_cdf_hi = tf.where(hi_positive, log_sf_abs_hi, log_cdf_minus_abs_hi)

    # Interior bins, wide: log Phi(hi) + log(1 - exp(d)).
    d = tf.where(hi_positive, log_cdf_lo - log_cdf_hi, g_lo - g_hi + 2.0 * neg_abs_m * u)
    narrow = u * (tf.abs(m) + 3.0) < _NARROW
    d = tf.where(narrow, -1.0, tf.minimum(d, -1e-20))
    wide_mass = log_cdf_hi + log1mexp(-d)

    # Interior bins, narrow: the mid-bin series, on inputs made safe where it is not used.
    w = tf.square(tf.where(narrow, m, 0.0))
    v = tf.square(tf.where(narrow, u, 0.1))
    series = v * (
        (w - 1.0) / 6.0 + v * ((w * (w - 6.0) + 3.0) / 120.0 + v * (w * (w * (w - 15.0) + 45.0) - 15.0) / 5040.0)
    )
    narrow_mass = tf.math.log(2.0 * tf.where(narrow, u, 0.1)) - 0.5 * w - HALF_LOG_2PI + tf.math.log1p(series)
    interior = tf.where(narrow, narrow_mass, wide_mass)

    # Edge bins: P(0) = Phi(m + u), P(L-1) = Phi(u - m). Reflected, each is Phi(hi) or 1 - Phi(lo).
    bottom = tf.equal(k, 0.0)
    top = tf.equal(k, float(num_levels - 1))
    edge = tf.where(tf.not_equal(bottom, flip), log_cdf_hi, tf.math.log1p(-tf.exp(log_cdf_lo)))
    return tf.where(bottom | top, edge, interior)


#: Terms of the windowed sum in ``discretized_normal_mean``: 12 bins either side of the mean,
#: at least 6.6 standard deviations whenever the window is used (scale < h / _EULER_MACLAURIN_RATIO).
_MEAN_WINDOW = 24
_EULER_MACLAURIN_RATIO = 0.6


def discretized_normal_mean(loc, scale, num_levels):
    """``E[K] / (L - 1)`` for ``K`` the level of ``X ~ N(loc, scale^2)``: ``h sum_{j=1}^{L-1} Phi((loc - t_j) / scale)``.

    ``t_j = (j - 1/2) h``, ``h = 1 / (L - 1)`` (``E[K] = sum_j P(K >= j)``). The
    sum has ``L - 1`` terms; two exact-to-float32 forms cost O(1) per value instead:

    * ``scale >= h / 0.6``: the sum is the midpoint rule for
      ``integral_0^1 Phi((loc - t) / scale) dt = E[clip(X, 0, 1)]``, so by Euler-Maclaurin,
      with ``z_0 = loc / scale``, ``z_1 = (loc - 1) / scale``, ``r = h / scale`` and
      ``[g] = g(z_1) - g(z_0)``::

          mean = clip(loc, 0, 1) + scale [Gn(z_0) - Gn(z_1)]
                 + scale ([phi] r^2 / 24 - [He2 phi] 7 r^4 / 5760
                          + [He4 phi] 31 r^6 / 967680 - [He6 phi] 127 r^8 / 154828800)

      with ``Gn(z) = phi(z) - |z| Phi(-|z|)``; the first omitted term is below ``1e-8 h``.
    * smaller scales: only the ``_MEAN_WINDOW = 24`` terms nearest ``loc`` are
      fractional (the rest are 1 or 0 to ``Phi(-6.6) = 2e-11``), so those are summed
      and the ones below the window counted.
    """
    num_levels = check_num_levels(num_levels)
    dtype = loc.dtype
    h = 1.0 / (num_levels - 1)
    ratio = h / scale
    use_series = ratio <= _EULER_MACLAURIN_RATIO

    # Euler-Maclaurin, on a safe scale where it is not used.
    s = tf.where(use_series, scale, tf.ones_like(scale))
    r2 = tf.square(tf.where(use_series, ratio, tf.zeros_like(ratio)))
    z0, z1 = loc / s, (loc - 1.0) / s

    def tail_integral(z):  # Gn(z) = integral_{-inf}^{-|z|} Phi
        a = tf.abs(z)
        return normal_pdf(a) - a * ndtr(-a)

    def correction(z):
        w = tf.square(z)
        he2, he4, he6 = w - 1.0, w * (w - 6.0) + 3.0, w * (w * (w - 15.0) + 45.0) - 15.0
        return normal_pdf(z) * r2 * (
            1.0 / 24.0 - r2 * (he2 * (7.0 / 5760.0) - r2 * (he4 * (31.0 / 967680.0) - r2 * he6 * (127.0 / 154828800.0)))
        )

    series = (
        tf.clip_by_value(loc, 0.0, 1.0)
        + s * (tail_integral(z0) - tail_integral(z1))
        + s * (correction(z1) - correction(z0))
    )

    # Window of the terms that are neither 0 nor 1.
    window = min(_MEAN_WINDOW, num_levels - 1)
    first = tf.math.floor(loc / h + 0.5) - (window // 2 - 1)
    first = tf.clip_by_value(tf.where(tf.math.is_finite(first), first, 1.0), 1.0, float(num_levels - window))
    j = first[..., None] + tf.range(window, dtype=dtype)
    t = (j - 0.5) * h
    windowed = h * ((first - 1.0) + tf.reduce_sum(ndtr((loc[..., None] - t) / scale[..., None]), axis=-1))
    return tf.where(use_series, series, windowed)


class DiscretizedNormal(LocationScale, DiscretizedDistribution):
    r"""The Normal distribution integrated over the ``L`` bins of the grey levels ``k / (L - 1)``.

    Mathematical details: with ``h = 1 / (L - 1)`` and ``Phi`` the standard
    normal CDF::

        P(k) = Phi(((k + 1/2) h - loc) / scale) - Phi(((k - 1/2) h - loc) / scale),   0 < k < L-1
        P(0)   = Phi((h/2 - loc) / scale)
        P(L-1) = 1 - Phi((1 - h/2 - loc) / scale)

    .. math::

        P(k) = \Phi\Big(\frac{(k + \tfrac12) h - \mu}{\sigma}\Big) - \Phi\Big(\frac{(k - \tfrac12) h - \mu}{\sigma}\Big),
        \quad 0 < k < L - 1; \qquad
        P(0) = \Phi\Big(\frac{h/2 - \mu}{\sigma}\Big), \quad
        P(L-1) = 1 - \Phi\Big(\frac{1 - h/2 - \mu}{\sigma}\Big)

    the probability that ``X ~ N(loc, scale^2)`` rounds to level ``k``, the
    edge bins taking the tails, so ``sum_k P(k) = 1`` exactly. As ``scale / h``
    grows, ``log P(k) -> log N(k h; loc, scale^2) + log h``: the Gaussian
    density plus the log bin width. ``log_prob`` is computed stably in log
    space (see :func:`discretized_normal_log_mass`).

    ``mean() = h sum_{j=1}^{L-1} Phi((loc - (j - 1/2) h) / scale)``
    (``E[K] = sum_j P(K >= j)``), in O(1) per value (see
    ``discretized_normal_mean``); it is ``loc`` only when the bins are fine and
    ``loc`` is well inside ``[0, 1]``; ``sample()`` draws ``X`` and rounds it to the
    nearest level, clipped to ``[0, 1]``.

    Args:
        loc: mean of the underlying Normal, on the ``k / (L - 1)`` scale.
        scale: its standard deviation, > 0.
        num_levels: ``L``, the number of grey levels, a Python int >= 2.
        validate_args: check ``scale > 0`` and that ``log_prob``'s ``x`` is on the grid.
    """

    def __init__(self, loc, scale, num_levels, validate_args=False, allow_nan_stats=True, name="DiscretizedNormal"):
        parameters = dict(locals())
        self._num_levels = check_num_levels(num_levels)
        with tf.name_scope(name) as name:
            dtype = float_dtype(loc, scale)
            self._loc = tf.convert_to_tensor(loc, dtype, name="loc")
            self._scale = tf.convert_to_tensor(scale, dtype, name="scale")
            self._init(self._num_levels, dtype, validate_args, allow_nan_stats, parameters, name, tfd.NOT_REPARAMETERIZED)

    @classmethod
    def _parameter_properties(cls, dtype, num_classes=None):
        return dict(
            loc=tfp.util.ParameterProperties(),
            scale=positive_scale_properties(),
        )

    def _log_mass(self, k):
        return discretized_normal_log_mass(k, self._loc, self._scale, self._num_levels)

    def bin_log_probs(self):
        """``log P(k)`` for ``k = 0 .. L-1``: a ``(*batch_shape, L)`` float tensor."""
        loc, scale = self._broadcast_parameters()
        k = tf.cast(tf.range(self._num_levels), self.dtype)
        return discretized_normal_log_mass(k, loc[..., None], scale[..., None], self._num_levels)

    def _broadcast_parameters(self):
        shape = tf.broadcast_dynamic_shape(tf.shape(self._loc), tf.shape(self._scale))
        return tf.broadcast_to(self._loc, shape), tf.broadcast_to(self._scale, shape)

    def _mean(self):
        loc, scale = self._broadcast_parameters()
        return discretized_normal_mean(loc, scale, self._num_levels)

    def _sample_n(self, n, seed=None):
        loc, scale = self._broadcast_parameters()
        shape = tf.concat([[n], tf.shape(loc)], 0)
        eps = tf.random.stateless_normal(shape, seed=tfp.random.sanitize_seed(seed), dtype=self.dtype)
        return self._level_sample((loc + scale * eps) * (self._num_levels - 1))

    def _parameter_control_dependencies(self, is_init):
        if not self.validate_args or not is_init:
            return []
        return [tf.debugging.assert_positive(self._scale, message="DiscretizedNormal: scale must be > 0")]
