"""Special functions the discretized distributions need, stable where the plain formulas overflow or cancel."""

import math

import tensorflow as tf
import tensorflow_probability as tfp

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
