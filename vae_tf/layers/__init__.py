"""Layers that map network outputs to TFP distributions, one module per layer (or closely related pair).

Continuous densities: IndependentNormal, IndependentContinuousBernoulli; binary data:
IndependentBernoulli; the exact probability of L-level images, pixels given as k / (L - 1):
IndependentDiscretizedNormal, IndependentDiscretizedLogisticMixture, IndependentCategorical (on RGB
``(H, W, 3)`` the mixture couples a pixel's channels as PixelCNN++ does; the others are independent
per sub-pixel).
The encoder's posterior: DiagonalGaussianPosterior. Every likelihood layer declares its
``support`` (:mod:`vae_tf.support`).

    distribution_layer                   the shared plumbing: features, projection, reshape
    bounded_scale                        sigma kept smoothly above a floor
    gaussian_parameters                  (loc, scale) with a fixed, learned or per-pixel sigma
    independent_normal                   IndependentNormal
    logit_layers                         IndependentBernoulli, IndependentContinuousBernoulli
    discretized_normal_layer             IndependentDiscretizedNormal
    discretized_logistic_mixture_layer   IndependentDiscretizedLogisticMixture
    categorical_layer                    IndependentCategorical
    diagonal_gaussian_posterior          DiagonalGaussianPosterior
"""

from vae_tf.layers.bounded_scale import bounded_scale
from vae_tf.layers.categorical_layer import IndependentCategorical
from vae_tf.layers.diagonal_gaussian_posterior import DiagonalGaussianPosterior
from vae_tf.layers.discretized_logistic_mixture_layer import IndependentDiscretizedLogisticMixture
from vae_tf.layers.discretized_normal_layer import IndependentDiscretizedNormal
from vae_tf.layers.independent_normal import IndependentNormal
from vae_tf.layers.logit_layers import IndependentBernoulli, IndependentContinuousBernoulli

__all__ = [
    "DiagonalGaussianPosterior",
    "IndependentBernoulli",
    "IndependentCategorical",
    "IndependentContinuousBernoulli",
    "IndependentDiscretizedLogisticMixture",
    "IndependentDiscretizedNormal",
    "IndependentNormal",
    "bounded_scale",
]
