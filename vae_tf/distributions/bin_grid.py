"""The grid of grey levels: level ``k = 0 .. L-1`` is the value ``k / (L - 1)``; bin ``k`` is the interval around it.

With ``h = 1 / (L - 1)``, bin ``k`` is ``[(k - 1/2) h, (k + 1/2) h]``, the edge bins ``k = 0`` and
``k = L - 1`` taking the tails to -inf and +inf, so a continuous density integrated over the bins is
a distribution over the ``L`` levels.
"""

import tensorflow as tf

from vae_tf.data.levels import GRID_TOLERANCE, check_num_levels


def check_num_bins(num_bins, name="num_bins"):
    """``num_bins`` as a Python int >= 2 (the number of grey levels L), or ``InvalidInputError``."""
    return check_num_levels(num_bins, name)


def levels_of(x, num_bins):
    """The level ``k = clip(round(x (L - 1)), 0, L - 1)`` of ``x``, as a float tensor of ``x``'s dtype."""
    x = tf.convert_to_tensor(x)
    return tf.clip_by_value(tf.round(x * (num_bins - 1)), 0.0, float(num_bins - 1))


def standardized_bin(k, loc, scale, num_bins, reflect):
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


def level_values(num_bins, dtype):
    """``k / (L - 1)`` for ``k = 0 .. L-1``."""
    return tf.cast(tf.range(num_bins), dtype) / (num_bins - 1)


def thresholds(num_bins, dtype):
    """The ``L - 1`` boundaries between bins, ``t_j = (j - 1/2) / (L - 1)`` for ``j = 1 .. L-1``."""
    return (tf.cast(tf.range(1, num_bins), dtype) - 0.5) / (num_bins - 1)


def on_grid_check(x, num_bins, message):
    """An assert op: every ``x (L - 1)`` is within :data:`~vae_tf.data.levels.GRID_TOLERANCE` of an integer."""
    scaled = x * (num_bins - 1)
    return tf.debugging.assert_less_equal(tf.abs(scaled - tf.round(scaled)), tf.constant(GRID_TOLERANCE, x.dtype),
                                          message=message)
