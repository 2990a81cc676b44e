"""A fixed-sigma (MSE-trained) model scored at the sigma that fits the test data best.

An MSE loss fixes the decoder's sigma, so its bits/dim at that sigma says as much about the
sigma as about the means. Scoring the same decoder *means* at ``sigma* = sqrt(test MSE)``, the
maximum-likelihood shared sigma of a Gaussian with those means, judges them fairly against a
model that learned sigma.
"""

import math

import tensorflow as tf
import keras

from vae_tf.evaluation.bits_per_dim import evaluate_bits_per_dim


class _DecoderMean(keras.layers.Layer):
    """``z -> mean of p(x|z)``, flat ``(batch, D)``: a trained model's decoder means as ready parameters."""

    def __init__(self, model, **kwargs):
        super().__init__(**kwargs)
        self.model = model

    def call(self, z):
        mean = self.model.decode(z).mean()
        return tf.reshape(mean, (tf.shape(mean)[0], -1))


def with_fixed_sigma(model, sigma, x_example):
    """A model of ``model``'s class whose decoder keeps ``model``'s decoder *means* and whose likelihood is
    the same kind of Gaussian (continuous or discretized) with a fixed ``sigma``.

    The means, not the Gaussian's location, are what an MSE loss trains: for a discretized Gaussian with a
    wide sigma the two differ, since the edge bins take the tails.
    """
    config = {**model.likelihood.get_config(), "scale": float(sigma), "project": False}
    config.pop("name", None)
    twin = type(model)(model.encoder, _DecoderMean(model, name="decoder_mean"),
                       type(model.likelihood).from_config(config), seed=model.seed)
    twin.build(x_example.shape)
    return twin


def bits_per_dim_at_optimal_sigma(model, x, num_levels, mse, k=1000, seed=0, verbose=0):
    """``(sigma*, bits/dim)``: ``sigma* = sqrt(mse)`` and the bits/dim of ``x`` under :func:`with_fixed_sigma` at it."""
    sigma = math.sqrt(mse)
    twin = with_fixed_sigma(model, sigma, x)
    return sigma, evaluate_bits_per_dim(twin, x, num_levels=num_levels, k=k, seed=seed, verbose=verbose)["bits_per_dim"]
