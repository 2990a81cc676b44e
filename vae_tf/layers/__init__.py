"""Layers that turn network outputs into TFP distributions: the decoders' likelihoods and the encoder's posterior.

Continuous densities: ``IndependentNormal``, ``IndependentContinuousBernoulli``; binary data:
``IndependentBernoulli``; the exact probability of L-level images, pixels given as ``k / (L - 1)``:
``IndependentDiscretizedNormal``, ``IndependentDiscretizedLogisticMixture``, ``IndependentCategorical`` (on RGB
``(H, W, 3)`` the mixture couples a pixel's channels as PixelCNN++ does; the others are independent per sub-pixel).
The encoder's posterior: ``DiagonalGaussianPosterior``. Every likelihood layer declares its ``support``
(:mod:`vae_tf.support`), with the ``num_levels`` it was built with.

Its modules::

    base              the shared plumbing: features, projection, reshape, support; sigma kept above a floor
    gaussian          IndependentNormal, IndependentDiscretizedNormal, DiagonalGaussianPosterior
    logits            IndependentBernoulli, IndependentContinuousBernoulli, IndependentCategorical
    logistic_mixture  IndependentDiscretizedLogisticMixture
"""

from vae_tf.layers.base import DistributionLayer, bounded_scale
from vae_tf.layers.gaussian import DiagonalGaussianPosterior, IndependentDiscretizedNormal, IndependentNormal
from vae_tf.layers.logistic_mixture import IndependentDiscretizedLogisticMixture
from vae_tf.layers.logits import IndependentBernoulli, IndependentCategorical, IndependentContinuousBernoulli

__all__ = [
    "DiagonalGaussianPosterior", "DistributionLayer", "IndependentBernoulli", "IndependentCategorical",
    "IndependentContinuousBernoulli", "IndependentDiscretizedLogisticMixture", "IndependentDiscretizedNormal",
    "IndependentNormal", "bounded_scale",
]
