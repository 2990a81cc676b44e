"""Distributions over the ``L`` grey levels of one pixel: the exact probability of an integer image.

Convention (shared by every class here): level ``k = 0 .. L-1`` of an image
with ``L`` grey levels is the value ``x = k / (L - 1)`` in ``[0, 1]``, and
``mean()`` and ``sample()`` are on that scale too. With ``h = 1 / (L - 1)``,
bin ``k`` is the interval::

    [(k - 1/2) h, (k + 1/2) h]      for 0 < k < L-1
    (-inf, h/2]                     for k = 0        (the edge bins take the tails)
    [1 - h/2, +inf)                 for k = L-1

so a continuous density ``f`` over the real line becomes the discrete
distribution ``P(k) = integral of f over bin k``, which sums to exactly 1 over
the ``L`` levels. ``log_prob(x)`` of a value that is not on the grid is the
log-probability of the nearest level, ``k = clip(round(x (L - 1)), 0, L - 1)``
(pass ``validate_args=True`` to refuse such values instead).

Every distribution has a scalar event, batch shape the broadcast of its
parameters (without their component / level axis), ``num_bins`` (``L``, a
Python int) and ``bin_log_probs()``, the ``(*batch_shape, L)`` tensor of
``log P(k)`` for every level, whose ``logsumexp`` over the last axis is 0.

The log-probabilities are computed in closed form, element-wise, in float32,
and are finite for any finite parameters with a positive scale (down to
``min_scale`` of the layers, at locations or logits of +-1e4, at the edge
bins): see :func:`discretized_normal_log_mass` and
:func:`discretized_logistic_log_mass` for how.
"""

import math
import numbers

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT_HALF = math.sqrt(0.5)
_LOG_2 = math.log(2.0)
#: Below ``u (|m| + 3) < _NARROW`` a Normal bin's mass comes from the mid-bin series (see
#: :func:`discretized_normal_log_mass`); its first omitted term is then below ``_NARROW**8 / 9! ~ 1e-8``.
_NARROW = 0.5


def check_num_bins(num_bins, name="num_bins"):
    """``num_bins`` as a Python int >= 2, or ``ValueError``."""
    if isinstance(num_bins, bool) or not isinstance(num_bins, numbers.Integral) or num_bins < 2:
        raise ValueError(f"{name} must be an integer >= 2 (the number of grey levels L), got {num_bins!r}.")
    return int(num_bins)


def levels_of(x, num_bins):
    """The level ``k = clip(round(x (L - 1)), 0, L - 1)`` of ``x``, as a float tensor of ``x``'s dtype."""
    x = tf.convert_to_tensor(x)
    return tf.clip_by_value(tf.round(x * (num_bins - 1)), 0.0, float(num_bins - 1))


def _log_ndtr_plus_half_square(t):
    """``G(t) = log Phi(-|t|) + t^2 / 2 = log(erfcx(|t| / sqrt 2) / 2)``: slowly varying, never overflows.

    ``Phi(y) = erfc(-y / sqrt 2) / 2`` and ``erfcx(s) = exp(s^2) erfc(s)``, so for
    ``y <= 0``, ``log Phi(y) = G(y) - y^2 / 2`` with no cancellation even at ``y = -1e7``.
    """
    return tf.math.log(0.5 * tfp.math.erfcx(tf.abs(t) * _SQRT_HALF))


def _log1mexp(x):
    """``log(1 - exp(-x))`` for ``x > 0``, with finite gradients in both branches (Maechler, 2012).

    ``tfp.math.log1mexp`` evaluates ``log1p(-exp(-x))`` at tiny ``x`` too, whose
    ``-inf`` turns the unselected branch's gradient into ``0 * inf = NaN``.
    """
    small = x < _LOG_2
    near = tf.math.log(-tf.math.expm1(-tf.where(small, x, _LOG_2)))
    far = tf.math.log1p(-tf.exp(-tf.where(small, 1.0, x)))
    return tf.where(small, near, far)


def _standardized_bin(k, loc, scale, num_bins, reflect):
    """``(m, u, lo, hi)``: bin ``k``'s centre ``m = (k h - loc) / scale``, half-width ``u = h / (2 scale)``, ends.

    ``lo, hi = m - u, m + u``, or with ``reflect`` the bin reflected to the
    non-positive side, ``-|m| -+ u``. Computed in float64 and returned in
    ``loc``'s dtype. Why: ``k h - loc`` cancels when ``loc`` is near a level and
    float32 rounding of ``k / (L - 1)`` alone moves it by ~3e-8, i.e. 3e-5
    standard deviations at ``scale = 1e-3``; the log-mass of a sharp bin then
    errs by ~1e-4 nats. In float64 the only error left is float32's final rounding.
    """
    dtype = loc.dtype if hasattr(loc, "dtype") else tf.float32
    k64, loc64, scale64 = (tf.cast(t, tf.float64) for t in (k, loc, scale))
    m = (k64 / (num_bins - 1) - loc64) / scale64
    u = (0.5 / (num_bins - 1)) / scale64
    centre = -tf.abs(m) if reflect else m
    return tuple(tf.cast(t, dtype) for t in (m, u, centre - u, centre + u))


def discretized_normal_log_mass(k, loc, scale, num_bins):
    """``log P(k)`` of ``N(loc, scale^2)`` integrated over bin ``k`` of ``num_bins`` (element-wise).

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
        num_bins: ``L``, a Python int >= 2.
    """
    m, u, lo, hi = _standardized_bin(k, loc, scale, num_bins, reflect=True)
    flip = m > 0.0
    neg_abs_m = -tf.abs(m)

    g_lo = _log_ndtr_plus_half_square(lo)
    g_hi = _log_ndtr_plus_half_square(hi)
    log_cdf_lo = g_lo - 0.5 * tf.square(lo)  # log Phi(lo), lo < 0
    log_cdf_minus_abs_hi = g_hi - 0.5 * tf.square(hi)  # log Phi(-|hi|) <= log 1/2
    log_sf_abs_hi = tf.math.log1p(-tf.exp(log_cdf_minus_abs_hi))  # log Phi(|hi|)
    hi_positive = hi > 0.0
    log_cdf_hi = tf.where(hi_positive, log_sf_abs_hi, log_cdf_minus_abs_hi)

    # Interior bins, wide: log Phi(hi) + log(1 - exp(d)).
    d = tf.where(hi_positive, log_cdf_lo - log_cdf_hi, g_lo - g_hi + 2.0 * neg_abs_m * u)
    narrow = u * (tf.abs(m) + 3.0) < _NARROW
    d = tf.where(narrow, -1.0, tf.minimum(d, -1e-20))
    wide_mass = log_cdf_hi + _log1mexp(-d)

    # Interior bins, narrow: the mid-bin series, on inputs made safe where it is not used.
    w = tf.square(tf.where(narrow, m, 0.0))
    v = tf.square(tf.where(narrow, u, 0.1))
    series = v * (
        (w - 1.0) / 6.0 + v * ((w * (w - 6.0) + 3.0) / 120.0 + v * (w * (w * (w - 15.0) + 45.0) - 15.0) / 5040.0)
    )
    narrow_mass = tf.math.log(2.0 * tf.where(narrow, u, 0.1)) - 0.5 * w - _HALF_LOG_2PI + tf.math.log1p(series)
    interior = tf.where(narrow, narrow_mass, wide_mass)

    # Edge bins: P(0) = Phi(m + u), P(L-1) = Phi(u - m). Reflected, each is Phi(hi) or 1 - Phi(lo).
    bottom = tf.equal(k, 0.0)
    top = tf.equal(k, float(num_bins - 1))
    edge = tf.where(tf.not_equal(bottom, flip), log_cdf_hi, tf.math.log1p(-tf.exp(log_cdf_lo)))
    return tf.where(bottom | top, edge, interior)


#: Terms of the windowed sum in :func:`discretized_normal_mean`: 12 bins either side of the mean,
#: at least 6.6 standard deviations whenever the window is used (scale < h / _EULER_MACLAURIN_RATIO).
_MEAN_WINDOW = 24
_EULER_MACLAURIN_RATIO = 0.6


def _ndtr(z):
    return 0.5 * tf.math.erfc(-z * _SQRT_HALF)


def _normal_pdf(z):
    return tf.exp(-0.5 * tf.square(z) - _HALF_LOG_2PI)


def discretized_normal_mean(loc, scale, num_bins):
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
    num_bins = check_num_bins(num_bins)
    dtype = loc.dtype
    h = 1.0 / (num_bins - 1)
    ratio = h / scale
    use_series = ratio <= _EULER_MACLAURIN_RATIO

    # Euler-Maclaurin, on a safe scale where it is not used.
    s = tf.where(use_series, scale, tf.ones_like(scale))
    r2 = tf.square(tf.where(use_series, ratio, tf.zeros_like(ratio)))
    z0, z1 = loc / s, (loc - 1.0) / s

    def tail_integral(z):  # Gn(z) = integral_{-inf}^{-|z|} Phi
        a = tf.abs(z)
        return _normal_pdf(a) - a * _ndtr(-a)

    def correction(z):
        w = tf.square(z)
        he2, he4, he6 = w - 1.0, w * (w - 6.0) + 3.0, w * (w * (w - 15.0) + 45.0) - 15.0
        return _normal_pdf(z) * r2 * (
            1.0 / 24.0 - r2 * (he2 * (7.0 / 5760.0) - r2 * (he4 * (31.0 / 967680.0) - r2 * he6 * (127.0 / 154828800.0)))
        )

    series = (
        tf.clip_by_value(loc, 0.0, 1.0)
        + s * (tail_integral(z0) - tail_integral(z1))
        + s * (correction(z1) - correction(z0))
    )

    # Window of the terms that are neither 0 nor 1.
    window = min(_MEAN_WINDOW, num_bins - 1)
    first = tf.math.floor(loc / h + 0.5) - (window // 2 - 1)
    first = tf.clip_by_value(tf.where(tf.math.is_finite(first), first, 1.0), 1.0, float(num_bins - window))
    j = first[..., None] + tf.range(window, dtype=dtype)
    t = (j - 0.5) * h
    windowed = h * ((first - 1.0) + tf.reduce_sum(_ndtr((loc[..., None] - t) / scale[..., None]), axis=-1))
    return tf.where(use_series, series, windowed)


def discretized_logistic_log_mass(k, loc, scale, num_bins):
    """``log P(k)`` of ``Logistic(loc, scale)`` integrated over bin ``k`` of ``num_bins`` (element-wise).

    With ``h = 1 / (L - 1)``, ``a = ((k - 1/2) h - loc) / scale`` and
    ``b = ((k + 1/2) h - loc) / scale`` (so ``b - a = h / scale``), the
    logistic CDF ``sigmoid`` gives ``P(k) = sigmoid(b) - sigmoid(a)``, which factors
    exactly as ``sigmoid(b) sigmoid(-a) (1 - exp(-(b - a)))``::

        log P(k)   = -softplus(-b) - softplus(a) + log(1 - exp(-h / scale))    0 < k < L-1
        log P(0)   = -softplus(-b)                                             (log sigmoid(b))
        log P(L-1) = -softplus(a)                                              (log sigmoid(-a))

    No difference of probabilities is formed, so unlike PixelCNN++'s
    ``sigmoid(b) - sigmoid(a)`` (Salimans et al., 2017) this needs no mid-bin
    density fallback: it is accurate in both tails and finite for any finite
    ``loc`` and ``scale > 0``.
    """
    h = 1.0 / (num_bins - 1)
    _, _, a, b = _standardized_bin(k, loc, scale, num_bins, reflect=False)
    bottom = tf.equal(k, 0.0)
    top = tf.equal(k, float(num_bins - 1))
    log_width = _log1mexp(h / scale)
    zero = tf.zeros_like(a)
    return (
        tf.where(bottom, zero, -tf.nn.softplus(a))
        + tf.where(top, zero, -tf.nn.softplus(-b))
        + tf.where(bottom | top, zero, log_width)
    )


def _float_dtype(*values):
    """The floating dtype of the first parameter that has one, else float32."""
    for value in values:
        dtype = getattr(value, "dtype", None)
        if dtype is not None and tf.as_dtype(dtype).is_floating:
            return tf.as_dtype(dtype)
    return tf.float32


def _level_values(num_bins, dtype):
    """``k / (L - 1)`` for ``k = 0 .. L-1``."""
    return tf.cast(tf.range(num_bins), dtype) / (num_bins - 1)


def _thresholds(num_bins, dtype):
    """The ``L - 1`` boundaries between bins, ``t_j = (j - 1/2) / (L - 1)`` for ``j = 1 .. L-1``."""
    return (tf.cast(tf.range(1, num_bins), dtype) - 0.5) / (num_bins - 1)


class _DiscretizedDistribution(tfd.AutoCompositeTensorDistribution):
    """Shared plumbing: scalar events, the level grid, ``log_prob`` via the level of ``x``."""

    def _init(self, num_bins, dtype, validate_args, allow_nan_stats, parameters, name, reparameterization_type):
        super().__init__(
            dtype=dtype,
            reparameterization_type=reparameterization_type,
            validate_args=validate_args,
            allow_nan_stats=allow_nan_stats,
            parameters=parameters,
            name=name,
        )

    @property
    def num_bins(self):
        """``L``, the number of grey levels (a Python int)."""
        return self._num_bins

    def levels(self, x):
        """The level ``k`` of ``x`` (nearest ``k / (L - 1)``), as floats."""
        return levels_of(tf.convert_to_tensor(x, self.dtype), self._num_bins)

    def _event_shape(self):
        return tf.TensorShape([])

    def _event_shape_tensor(self):
        return tf.constant([], dtype=tf.int32)

    def _log_prob(self, x):
        return self._log_mass(self.levels(x))

    def bin_log_probs(self):
        """``log P(k)`` for ``k = 0 .. L-1``: a ``(*batch_shape, L)`` float tensor."""
        raise NotImplementedError

    def _sample_control_dependencies(self, x):
        if not self.validate_args:
            return []
        x = tf.convert_to_tensor(x, self.dtype)
        scaled = x * (self._num_bins - 1)
        grid = f"k / {self._num_bins - 1} for integer k in 0..{self._num_bins - 1}"
        return [
            tf.debugging.assert_greater_equal(x, tf.zeros([], self.dtype), message="x must be >= 0"),
            tf.debugging.assert_less_equal(x, tf.ones([], self.dtype), message="x must be <= 1"),
            tf.debugging.assert_less_equal(
                tf.abs(scaled - tf.round(scaled)), tf.constant(1e-3, self.dtype), message=f"x must be on the grid {grid}"
            ),
        ]

    def _level_sample(self, levels):
        return tf.clip_by_value(tf.round(levels), 0.0, float(self._num_bins - 1)) / (self._num_bins - 1)


class DiscretizedNormal(_DiscretizedDistribution):
    """The Normal distribution integrated over the ``L`` bins of the grey levels ``k / (L - 1)``.

    Mathematical details: with ``h = 1 / (L - 1)`` and ``Phi`` the standard
    normal CDF::

        P(k) = Phi(((k + 1/2) h - loc) / scale) - Phi(((k - 1/2) h - loc) / scale),   0 < k < L-1
        P(0)   = Phi((h/2 - loc) / scale)
        P(L-1) = 1 - Phi((1 - h/2 - loc) / scale)

    the probability that ``X ~ N(loc, scale^2)`` rounds to level ``k``, the
    edge bins taking the tails, so ``sum_k P(k) = 1`` exactly. As ``scale / h``
    grows, ``log P(k) -> log N(k h; loc, scale^2) + log h``: the Gaussian
    density plus the log bin width. ``log_prob`` is computed stably in log
    space (see :func:`discretized_normal_log_mass`).

    ``mean() = h sum_{j=1}^{L-1} Phi((loc - (j - 1/2) h) / scale)``
    (``E[K] = sum_j P(K >= j)``), in O(1) per value (see
    :func:`discretized_normal_mean`); it is ``loc`` only when the bins are fine and
    ``loc`` is well inside ``[0, 1]``; ``sample()`` draws ``X`` and rounds it to the
    nearest level, clipped to ``[0, 1]``.

    Args:
        loc: mean of the underlying Normal, on the ``k / (L - 1)`` scale.
        scale: its standard deviation, > 0.
        num_bins: ``L``, the number of grey levels, a Python int >= 2.
        validate_args: check ``scale > 0`` and that ``log_prob``'s ``x`` is on the grid.
    """

    def __init__(self, loc, scale, num_bins, validate_args=False, allow_nan_stats=True, name="DiscretizedNormal"):
        parameters = dict(locals())
        self._num_bins = check_num_bins(num_bins)
        with tf.name_scope(name) as name:
            dtype = _float_dtype(loc, scale)
            self._loc = tf.convert_to_tensor(loc, dtype, name="loc")
            self._scale = tf.convert_to_tensor(scale, dtype, name="scale")
            self._init(self._num_bins, dtype, validate_args, allow_nan_stats, parameters, name, tfd.NOT_REPARAMETERIZED)

    @classmethod
    def _parameter_properties(cls, dtype, num_classes=None):
        return dict(
            loc=tfp.util.ParameterProperties(),
            scale=tfp.util.ParameterProperties(
                default_constraining_bijector_fn=lambda: tfp.bijectors.Softplus(low=np.finfo(np.float32).tiny)
            ),
        )

    @property
    def loc(self):
        return self._loc

    @property
    def scale(self):
        return self._scale

    def _log_mass(self, k):
        return discretized_normal_log_mass(k, self._loc, self._scale, self._num_bins)

    def bin_log_probs(self):
        """``log P(k)`` for ``k = 0 .. L-1``: a ``(*batch_shape, L)`` float tensor."""
        loc, scale = self._broadcast_parameters()
        k = tf.cast(tf.range(self._num_bins), self.dtype)
        return discretized_normal_log_mass(k, loc[..., None], scale[..., None], self._num_bins)

    def _broadcast_parameters(self):
        shape = tf.broadcast_dynamic_shape(tf.shape(self._loc), tf.shape(self._scale))
        return tf.broadcast_to(self._loc, shape), tf.broadcast_to(self._scale, shape)

    def _mean(self):
        loc, scale = self._broadcast_parameters()
        return discretized_normal_mean(loc, scale, self._num_bins)

    def _sample_n(self, n, seed=None):
        loc, scale = self._broadcast_parameters()
        shape = tf.concat([[n], tf.shape(loc)], 0)
        eps = tf.random.stateless_normal(shape, seed=tfp.random.sanitize_seed(seed), dtype=self.dtype)
        return self._level_sample((loc + scale * eps) * (self._num_bins - 1))

    def _parameter_control_dependencies(self, is_init):
        if not self.validate_args or not is_init:
            return []
        return [tf.debugging.assert_positive(self._scale, message="DiscretizedNormal: scale must be > 0")]


#: Thresholds per slice when the mixture's mean sums over them (bounds its memory, see ``_mean``).
_MEAN_SLICE = 32


class DiscretizedLogisticMixture(_DiscretizedDistribution):
    """A mixture of ``K`` logistics integrated over the ``L`` bins of ``k / (L - 1)`` (PixelCNN++).

    Mathematical details: with mixture weights ``pi = softmax(logits)`` over the
    last axis and ``P_i(k)`` the mass of ``Logistic(loc_i, scale_i)`` on bin ``k``
    (edge bins taking the tails; see :func:`discretized_logistic_log_mass`)::

        P(k) = sum_i pi_i P_i(k),
        log P(k) = logsumexp_i [log_softmax(logits)_i + log P_i(k)]

    as in Salimans et al. (2017), PixelCNN++, for one channel per pixel.
    ``mean() = sum_i pi_i h sum_{j=1}^{L-1} sigmoid((loc_i - (j - 1/2) h) / scale_i)``;
    ``sample()`` picks a component, draws the logistic and rounds to the nearest
    level, clipped to ``[0, 1]``.

    Args:
        logits, loc, scale: ``(*batch_shape, K)`` each (the component axis last);
            ``scale > 0``; ``loc`` and ``scale`` on the ``k / (L - 1)`` scale.
        num_bins: ``L``, a Python int >= 2.
    """

    def __init__(self, logits, loc, scale, num_bins, validate_args=False, allow_nan_stats=True,
                 name="DiscretizedLogisticMixture"):
        parameters = dict(locals())
        self._num_bins = check_num_bins(num_bins)
        with tf.name_scope(name) as name:
            dtype = _float_dtype(logits, loc, scale)
            self._logits = tf.convert_to_tensor(logits, dtype, name="logits")
            self._loc = tf.convert_to_tensor(loc, dtype, name="loc")
            self._scale = tf.convert_to_tensor(scale, dtype, name="scale")
            for what, t in (("logits", self._logits), ("loc", self._loc), ("scale", self._scale)):
                if t.shape.rank == 0:
                    raise ValueError(f"DiscretizedLogisticMixture: {what} needs a last (component) axis, got a scalar.")
            self._init(self._num_bins, dtype, validate_args, allow_nan_stats, parameters, name, tfd.NOT_REPARAMETERIZED)

    @classmethod
    def _parameter_properties(cls, dtype, num_classes=None):
        return dict(
            logits=tfp.util.ParameterProperties(event_ndims=1),
            loc=tfp.util.ParameterProperties(event_ndims=1),
            scale=tfp.util.ParameterProperties(
                event_ndims=1,
                default_constraining_bijector_fn=lambda: tfp.bijectors.Softplus(low=np.finfo(np.float32).tiny),
            ),
        )

    @property
    def logits(self):
        return self._logits

    @property
    def loc(self):
        return self._loc

    @property
    def scale(self):
        return self._scale

    @property
    def num_components(self):
        return tf.compat.dimension_value(self._logits.shape[-1])

    def _log_weights(self):
        return tf.nn.log_softmax(self._logits, axis=-1)

    def _log_mass(self, k):
        component = discretized_logistic_log_mass(k[..., None], self._loc, self._scale, self._num_bins)
        return tf.reduce_logsumexp(self._log_weights() + component, axis=-1)

    def bin_log_probs(self):
        """``log P(k)`` for ``k = 0 .. L-1``: a ``(*batch_shape, L)`` float tensor (builds ``(*batch, L, K)``)."""
        k = tf.cast(tf.range(self._num_bins), self.dtype)[:, None]
        component = discretized_logistic_log_mass(k, self._loc[..., None, :], self._scale[..., None, :], self._num_bins)
        out = tf.reduce_logsumexp(self._log_weights()[..., None, :] + component, axis=-1)
        return tf.broadcast_to(out, tf.concat([self.batch_shape_tensor(), [self._num_bins]], 0))

    def _mean(self):
        t = _thresholds(self._num_bins, self.dtype)
        loc, scale = self._loc[..., None], self._scale[..., None]
        # E[k_i] = sum_j P(k_i >= j) = sum_j sigmoid((loc_i - t_j) / scale_i), summed over slices of
        # the L - 1 thresholds: the whole (..., K, L-1) tensor is 4 GB for 1000 MNIST images at K = 5.
        exceed = tf.add_n([tf.reduce_sum(tf.sigmoid((loc - t[j:j + _MEAN_SLICE]) / scale), axis=-1)
                           for j in range(0, self._num_bins - 1, _MEAN_SLICE)])
        component_means = exceed / (self._num_bins - 1)
        mean = tf.reduce_sum(tf.nn.softmax(self._logits, axis=-1) * component_means, axis=-1)
        return tf.broadcast_to(mean, self.batch_shape_tensor())

    def _sample_n(self, n, seed=None):
        component_seed, logistic_seed = tfp.random.split_seed(seed, n=2)
        batch = self.batch_shape_tensor()
        k = tf.cast(self._logits.shape[-1], tf.int32) if self._logits.shape[-1] is not None else tf.shape(self._logits)[-1]
        logits = tf.broadcast_to(self._logits, tf.concat([batch, [k]], 0))
        index = tfd.Categorical(logits=logits).sample(n, seed=component_seed)  # (n, *batch)
        chosen = tf.one_hot(index, k, dtype=self.dtype)
        loc = tf.reduce_sum(chosen * tf.broadcast_to(self._loc, tf.shape(logits)), -1)
        scale = tf.reduce_sum(chosen * tf.broadcast_to(self._scale, tf.shape(logits)), -1)
        uniform = tf.random.stateless_uniform(
            tf.shape(index), seed=logistic_seed, minval=np.finfo(np.float32).tiny, maxval=1.0, dtype=self.dtype
        )
        x = loc + scale * (tf.math.log(uniform) - tf.math.log1p(-uniform))
        return self._level_sample(x * (self._num_bins - 1))

    def _parameter_control_dependencies(self, is_init):
        if not self.validate_args or not is_init:
            return []
        return [tf.debugging.assert_positive(self._scale, message="DiscretizedLogisticMixture: scale must be > 0")]


class LevelCategorical(_DiscretizedDistribution):
    """A categorical distribution over the ``L`` grey levels, valued ``k / (L - 1)``.

    Mathematical details: ``P(k) = softmax(logits)_k``, ``k = 0 .. L-1``;
    ``log P(k) = logits_k - logsumexp(logits)``;
    ``mean() = sum_k (k / (L - 1)) P(k)``. It is ``tfd.Categorical`` on the
    ``k / (L - 1)`` scale, with the interface of the other distributions here.

    Args:
        logits: ``(*batch_shape, L)``, the level axis last.
        num_bins: ``L``, a Python int >= 2; must equal the size of the last axis of ``logits``.
    """

    def __init__(self, logits, num_bins, validate_args=False, allow_nan_stats=True, name="LevelCategorical"):
        parameters = dict(locals())
        self._num_bins = check_num_bins(num_bins)
        with tf.name_scope(name) as name:
            dtype = _float_dtype(logits)
            self._logits = tf.convert_to_tensor(logits, dtype, name="logits")
            last = self._logits.shape[-1] if self._logits.shape.rank else None
            if self._logits.shape.rank == 0 or (last is not None and last != self._num_bins):
                raise ValueError(
                    f"LevelCategorical: logits must have a last axis of size num_bins={self._num_bins}, "
                    f"got shape {self._logits.shape}."
                )
            self._init(self._num_bins, dtype, validate_args, allow_nan_stats, parameters, name, tfd.NOT_REPARAMETERIZED)

    @classmethod
    def _parameter_properties(cls, dtype, num_classes=None):
        return dict(logits=tfp.util.ParameterProperties(event_ndims=1))

    @property
    def logits(self):
        return self._logits

    def _log_mass(self, k):
        # Shift by the max before picking: logits_k - logsumexp(logits) would lose ~1e-3 nats at logits of 1e4.
        # Select with where, not one_hot * values: a logit of -inf must not become 0 * -inf = NaN.
        shifted = self._logits - tf.stop_gradient(tf.reduce_max(self._logits, axis=-1, keepdims=True))
        chosen = tf.equal(k[..., None], tf.cast(tf.range(self._num_bins), self.dtype))
        picked = tf.reduce_sum(tf.where(chosen, shifted, tf.zeros([], self.dtype)), axis=-1)
        return picked - tf.math.log(tf.reduce_sum(tf.exp(shifted), axis=-1))

    def bin_log_probs(self):
        """``log P(k)`` for ``k = 0 .. L-1``: ``log_softmax(logits)``, ``(*batch_shape, L)``."""
        return tf.nn.log_softmax(self._logits, axis=-1)

    def _mean(self):
        return tf.reduce_sum(tf.nn.softmax(self._logits, axis=-1) * _level_values(self._num_bins, self.dtype), axis=-1)

    def _sample_n(self, n, seed=None):
        index = tfd.Categorical(logits=self._logits, dtype=tf.int32).sample(n, seed=seed)
        return tf.cast(index, self.dtype) / (self._num_bins - 1)


__all__ = [
    "DiscretizedLogisticMixture",
    "DiscretizedNormal",
    "LevelCategorical",
    "check_num_bins",
    "discretized_logistic_log_mass",
    "discretized_normal_log_mass",
    "levels_of",
]
