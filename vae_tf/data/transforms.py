"""Fixed draws that turn grey levels into what a likelihood scores: dequantized values, binary pixels.

Dequantization (Theis et al., 2016) turns the levels into continuous values
``y = (k + u) / L``, ``u ~ U[0, 1)`` per pixel, so that a density ``p`` on ``[0, 1]^D`` gives
a lower bound on the probability of the integer image (:mod:`vae_tf.evaluation.bits_per_dim`).
Binarization turns grey pixels ``x`` in [0, 1] into ``b ~ Bernoulli(x)``. Here: one fixed draw
per seed, used for validation and test sets so that every model is scored on the same values;
the training pipeline draws afresh every epoch (:func:`vae_tf.data.make_dataset`).
"""

import numpy as np

from vae_tf.choices import BINARIZATIONS
from vae_tf.data.levels import check_num_levels, grey_levels
from vae_tf.errors import InvalidInputError


def dequantize_static(x, num_levels, seed=0):
    """One fixed dequantization ``y = (k + u) / L``, ``u ~ U[0, 1)`` from ``seed``, of ``x = k / (L - 1)``.

    Used for validation and test sets: every model with the same seed is scored on the same draw.
    """
    num_levels = check_num_levels(num_levels)
    k = grey_levels(x, num_levels)
    u = np.random.default_rng(seed).random(np.shape(x))
    return ((k + u) / num_levels).astype(np.float32)


def binarize_static(x, seed=0):
    """One fixed Bernoulli draw per pixel: ``b = 1[u < x]``, ``u ~ U(0, 1)`` from ``seed``."""
    u = np.random.default_rng(seed).random(np.shape(x), dtype=np.float32)
    return (u < x).astype(np.float32)


def check_binarize(binarize):
    if binarize not in BINARIZATIONS:
        raise InvalidInputError(f"binarize must be one of {BINARIZATIONS}, got {binarize!r}.")
    return binarize


