"""Layers that map network outputs to TFP distributions.

Continuous densities: IndependentNormal, IndependentContinuousBernoulli; binary data:
IndependentBernoulli; the exact probability of L-level images, pixels given as k / (L - 1):
IndependentDiscretizedNormal, DiscretizedLogisticMixture, IndependentCategorical.
"""

from vae_tf.layers.distribution_layers import (
    DiagonalGaussianPosterior,
    IndependentBernoulli,
    IndependentContinuousBernoulli,
    IndependentNormal,
    bounded_scale,
)
from vae_tf.layers.discretized_layers import (
    DiscretizedLogisticMixture,
    IndependentCategorical,
    IndependentDiscretizedNormal,
)

__all__ = [
    "DiagonalGaussianPosterior",
    "DiscretizedLogisticMixture",
    "IndependentBernoulli",
    "IndependentCategorical",
    "IndependentContinuousBernoulli",
    "IndependentDiscretizedNormal",
    "IndependentNormal",
    "bounded_scale",
]
