"""The shared ground of the distributions over grey levels: the level grid, the base class, stable special functions.

Convention (shared by every distribution here): level ``k = 0 .. L-1`` of an image with ``L`` grey levels is
the value ``x = k / (L - 1)`` in ``[0, 1]``, and ``mean()`` and ``sample()`` are on that scale too. With
``h = 1 / (L - 1)``, bin ``k`` is ``[(k - 1/2) h, (k + 1/2) h]``, the edge bins ``k = 0`` and ``k = L - 1``
taking the tails to -inf and +inf, so a continuous density integrated over the bins is a distribution over
the ``L`` levels. ``log_prob(x)`` of a value off the grid is the log-probability of the nearest level,
``k = clip(round(x (L - 1)), 0, L - 1)`` (``validate_args=True`` refuses such values instead). Every
subclass of :class:`DiscretizedDistribution` has ``num_levels`` (``L``) and ``bin_log_probs()``, the
``(*batch_shape, L)`` tensor of ``log P(k)`` whose ``logsumexp`` over the last axis is 0.
"""

import math

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from vae_tf.data.levels import GRID_TOLERANCE

tfd = tfp.distributions


def levels_of(x, num_levels):
    """The level ``k = clip(round(x (L - 1)), 0, L - 1)`` of ``x``, as a float tensor of ``x``'s dtype."""
    x = tf.convert_to_tensor(x)
    return tf.clip_by_value(tf.round(x * (num_levels - 1)), 0.0, float(num_levels - 1))


def standardized_bin(k, loc, scale, num_levels, reflect):
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
    m = (k64 / (num_levels - 1) - loc64) / scale64
    u = (0.5 / (num_levels - 1)) / scale64
    centre = -tf.abs(m) if reflect else m
    return tuple(tf.cast(t, dtype) for t in (m, u, centre - u, centre + u))


def level_values(num_levels, dtype):
    """``k / (L - 1)`` for ``k = 0 .. L-1``."""
    return tf.cast(tf.range(num_levels), dtype) / (num_levels - 1)


def thresholds(num_levels, dtype):
    """The ``L - 1`` boundaries between bins, ``t_j = (j - 1/2) / (L - 1)`` for ``j = 1 .. L-1``."""
    return (tf.cast(tf.range(1, num_levels), dtype) - 0.5) / (num_levels - 1)


def on_grid_check(x, num_levels, message):
    """An assert op: every ``x (L - 1)`` is within :data:`~vae_tf.data.levels.GRID_TOLERANCE` of an integer."""
    scaled = x * (num_levels - 1)
    return tf.debugging.assert_less_equal(tf.abs(scaled - tf.round(scaled)), tf.constant(GRID_TOLERANCE, x.dtype),
                                          message=message)


HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
SQRT_HALF = math.sqrt(0.5)
LOG_2 = math.log(2.0)


def log_ndtr_plus_half_square(t):
    """``G(t) = log Phi(-|t|) + t^2 / 2 = log(erfcx(|t| / sqrt 2) / 2)``: slowly varying, never overflows.

    ``Phi(y) = erfc(-y / sqrt 2) / 2`` and ``erfcx(s) = exp(s^2) erfc(s)``, so for
    ``y <= 0``, ``log Phi(y) = G(y) - y^2 / 2`` with no cancellation even at ``y = -1e7``.
    """
    return tf.math.log(0.5 * tfp.math.erfcx(tf.abs(t) * SQRT_HALF))


def log1mexp(x):
    """``log(1 - exp(-x))`` for ``x > 0``, with finite gradients in both branches (Maechler, 2012).

    ``tfp.math.log1mexp`` evaluates ``log1p(-exp(-x))`` at tiny ``x`` too, whose
    ``-inf`` turns the unselected branch's gradient into ``0 * inf = NaN``.
    """
    small = x < LOG_2
    near = tf.math.log(-tf.math.expm1(-tf.where(small, x, LOG_2)))
    far = tf.math.log1p(-tf.exp(-tf.where(small, 1.0, x)))
    return tf.where(small, near, far)


def ndtr(z):
    return 0.5 * tf.math.erfc(-z * SQRT_HALF)


def normal_pdf(z):
    return tf.exp(-0.5 * tf.square(z) - HALF_LOG_2PI)


def float_dtype(*values):
    """The floating dtype of the first parameter that has one, else float32."""
    for value in values:
        dtype = getattr(value, "dtype", None)
        if dtype is not None and tf.as_dtype(dtype).is_floating:
            return tf.as_dtype(dtype)
    return tf.float32


class OnLevelGrid:
    """``num_levels`` (``L``) and :meth:`levels` of a distribution whose values are the levels ``k / (L - 1)``
    (its ``_num_levels`` and ``dtype``)."""

    @property
    def num_levels(self):
        """``L``, the number of grey levels (a Python int)."""
        return self._num_levels

    def levels(self, x):
        """The level ``k`` of ``x`` (nearest ``k / (L - 1)``), as floats."""
        return levels_of(tf.convert_to_tensor(x, self.dtype), self._num_levels)


class DiscretizedDistribution(OnLevelGrid, tfd.AutoCompositeTensorDistribution):
    """Shared plumbing: scalar events, the level grid, ``log_prob`` via the level of ``x``."""

    def _init(self, num_levels, dtype, validate_args, allow_nan_stats, parameters, name, reparameterization_type):
        super().__init__(
            dtype=dtype,
            reparameterization_type=reparameterization_type,
            validate_args=validate_args,
            allow_nan_stats=allow_nan_stats,
            parameters=parameters,
            name=name,
        )

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
        return level_grid_assertions(x, self._num_levels, self.dtype) if self.validate_args else []

    def _level_sample(self, levels):
        return tf.clip_by_value(tf.round(levels), 0.0, float(self._num_levels - 1)) / (self._num_levels - 1)


def level_grid_assertions(x, num_levels, dtype):
    """``validate_args``' checks of values ``x``: in [0, 1] and on the grid ``k / (L - 1)`` (:func:`on_grid_check`)."""
    x = tf.convert_to_tensor(x, dtype)
    grid = f"k / {num_levels - 1} for integer k in 0..{num_levels - 1}"
    return [
        tf.debugging.assert_greater_equal(x, tf.zeros([], dtype), message="x must be >= 0"),
        tf.debugging.assert_less_equal(x, tf.ones([], dtype), message="x must be <= 1"),
        on_grid_check(x, num_levels, f"x must be on the grid {grid}"),
    ]


def positive_scale_properties(event_ndims=0):
    """TFP's ``ParameterProperties`` of a ``scale > 0``: unconstrained by a softplus kept above float32's tiny."""
    return tfp.util.ParameterProperties(
        event_ndims=event_ndims,
        default_constraining_bijector_fn=lambda: tfp.bijectors.Softplus(low=np.finfo(np.float32).tiny))


class LocationScale:
    """The ``loc`` and ``scale`` properties of a location-scale family (its ``_loc`` and ``_scale`` tensors)."""

    @property
    def loc(self):
        return self._loc

    @property
    def scale(self):
        return self._scale
