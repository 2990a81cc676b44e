"""Keras 3 reconstruction losses that take a TFP distribution or a tensor.

Each sums over the event dimensions and averages over the batch, in nats::

    NegativeLogLikelihood()      -log p(x)
    ScaledMSE(sigma)             sum (x - mu)^2 / (2 sigma^2) [+ D log sigma + D/2 log 2pi]
    BinaryCrossentropy()         sum softplus(l) - x l

This package depends on TensorFlow, TensorFlow Probability and Keras only, and imports its own
modules relatively, so it works as the top-level ``losses`` and as ``vae_tf.losses`` alike.
"""

from .base import DistributionLoss, first_non_finite, reduce_per_example, scale_for_replicas, sum_over_event_dims
from .reconstruction import BinaryCrossentropy, NegativeLogLikelihood, ScaledMSE

__all__ = [
    "BinaryCrossentropy",
    "DistributionLoss",
    "NegativeLogLikelihood",
    "ScaledMSE",
    "first_non_finite",
    "reduce_per_example",
    "scale_for_replicas",
    "sum_over_event_dims",
]
