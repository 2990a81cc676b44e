"""Keras 3 reconstruction losses that take a TFP distribution or a tensor.

Each sums over the event dimensions and averages over the batch, in nats::

    NegativeLogLikelihood()      -log p(x)
    ScaledMSE(sigma)             sum (x - mu)^2 / (2 sigma^2) [+ D log sigma + D/2 log 2pi]
    BinaryCrossentropy()         sum softplus(l) - x l

This package depends on TensorFlow, TensorFlow Probability and Keras only.
"""

from losses.base import DistributionLoss
from losses.reconstruction import BinaryCrossentropy, NegativeLogLikelihood, ScaledMSE
from losses.reduction import reduce_per_example, sum_over_event_dims

__all__ = [
    "BinaryCrossentropy",
    "DistributionLoss",
    "NegativeLogLikelihood",
    "ScaledMSE",
    "reduce_per_example",
    "sum_over_event_dims",
]
