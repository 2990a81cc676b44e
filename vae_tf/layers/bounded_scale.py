"""A standard deviation kept smoothly above a floor: the scale of every learned or predicted sigma."""

import math

import tensorflow as tf


def bounded_scale(log_scale, min_scale):
    """A standard deviation that stays above ``min_scale``, smoothly.

    Formula: ``sigma = min_scale * exp(softplus(log_scale - log(min_scale)))``,
    i.e. ``log sigma = log m + softplus(log_scale - log m)``. It is
    ``exp(log_scale)`` when that is well above ``m``, never below ``m``, and its
    gradient never vanishes abruptly as a hard clip's would.
    """
    if not min_scale > 0:
        raise ValueError(f"bounded_scale: min_scale must be > 0, got {min_scale!r}.")
    log_m = math.log(min_scale)
    return tf.exp(log_m + tf.nn.softplus(log_scale - log_m))
