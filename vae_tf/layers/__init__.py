"""Layers that map network outputs to TFP distributions."""

from vae_tf.layers.distribution_layers import (
    DiagonalGaussianPosterior,
    IndependentBernoulli,
    IndependentContinuousBernoulli,
    IndependentNormal,
    bounded_scale,
)

__all__ = [
    "DiagonalGaussianPosterior",
    "IndependentBernoulli",
    "IndependentContinuousBernoulli",
    "IndependentNormal",
    "bounded_scale",
]
