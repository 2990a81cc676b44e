"""Test-set numbers of one trained configuration, for a row of the comparison."""

import math

import keras
import numpy as np
import tensorflow as tf

from vae_tf.bits_per_dim import (NO_LIKELIHOOD_REASON, evaluate_bits_per_dim,
                                 log_probability_of_levels, nats_to_bits_per_dim, scored_inputs)
from vae_tf.evaluation import kl_and_active_units, reconstruction_mse
from vae_tf.models.vae.model import VAE


class _DecoderMean(keras.layers.Layer):
    """``z -> mean of p(x|z)``, flat ``(batch, D)``: a trained model's decoder means as ready parameters."""

    def __init__(self, model, **kwargs):
        super().__init__(**kwargs)
        self.model = model

    def call(self, z):
        mean = self.model.decode(z).mean()
        return tf.reshape(mean, (tf.shape(mean)[0], -1))


def with_fixed_sigma(model, sigma, x_example):
    """A VAE whose decoder keeps ``model``'s decoder *means* and whose likelihood is the same kind of
    Gaussian (continuous or discretized) with a fixed ``sigma``.

    Used to score a fixed-sigma (MSE-trained) model at the sigma that fits the test data best. The
    means, not the Gaussian's location, are what an MSE loss trains: for a discretized Gaussian with a
    wide sigma the two differ, since the edge bins take the tails.
    """
    config = {**model.likelihood.get_config(), "scale": float(sigma), "project": False}
    config.pop("name", None)
    twin = VAE(model.encoder, _DecoderMean(model, name="decoder_mean"), type(model.likelihood).from_config(config),
               seed=model.seed)
    twin.build(x_example.shape)
    return twin


def evaluate_vae(model, config, x_test, num_levels, k=1000, iwae_examples=1000, seed=0, verbose=0):
    """Test-set numbers for one model; ``x_test`` are grey levels ``k / (L - 1)`` (binary for binarized configs).

    * ``bits_per_dim``: ``-log2 P(k) / D`` (:mod:`vae_tf.bits_per_dim`) from IWAE with ``k`` samples over
      the first ``iwae_examples`` images; ``bits_per_dim_method`` says ``"exact"`` or ``"dequantized
      bound"``; None with ``no_bits_reason`` for BCE on grey values;
    * ``test_elbo``, ``test_iwae``: the model's own log-likelihood bounds (nats per image) on what it is
      scored on (the levels, or one fixed dequantized draw ``(k + u) / L`` from ``seed``);
      ``log_prob``: the IWAE's ``log P(k)`` in nats (exact, or the bound);
    * ``recon_mse``: :func:`~vae_tf.evaluation.reconstruction_mse`; ``kl``, ``active_units``:
      :func:`~vae_tf.evaluation.kl_and_active_units`;
    * fixed-sigma models also get ``optimal_sigma = sqrt(recon_mse)`` and ``bits_per_dim_at_optimal_sigma``,
      their decoder means scored at that sigma (:func:`with_fixed_sigma`), so an MSE-trained model is
      judged on its best Gaussian, as one that learned sigma is.
    """
    x_iwae = x_test[:iwae_examples]
    row = {"iwae_k": int(k), "iwae_examples": int(len(x_iwae)), "bits_per_dim": None, "bits_per_dim_method": None,
           "no_bits_reason": None, "log_prob": None, "optimal_sigma": None, "bits_per_dim_at_optimal_sigma": None}
    if config.has_likelihood:
        y, method, levels = scored_inputs(model.likelihood, x_test, num_levels, seed)
    else:
        y, method, levels = x_test, None, num_levels
        row["no_bits_reason"] = NO_LIKELIHOOD_REASON
    d = int(np.prod(y.shape[1:]))
    row["test_elbo"] = float(np.mean(model.elbo(y)))
    ll = model.iwae_log_likelihood(y[:iwae_examples], k=k, seed=seed, verbose=verbose)
    row["test_iwae"] = float(np.mean(ll))
    if method is not None:
        row["log_prob"] = float(np.mean(log_probability_of_levels(ll, d, method, levels)))
        row["bits_per_dim"] = float(nats_to_bits_per_dim(row["log_prob"], d))
        row["bits_per_dim_method"] = method
    row["recon_mse"] = reconstruction_mse(model, y)
    row["kl"], row["active_units"] = kl_and_active_units(model, y)
    row["decoder_sigma"] = None
    current_scale = getattr(model.likelihood, "current_scale", None)
    if current_scale is not None and current_scale() is not None:
        row["decoder_sigma"] = float(current_scale())
    if config.fixed_sigma:
        sigma = math.sqrt(row["recon_mse"])
        twin = with_fixed_sigma(model, sigma, x_test)
        row["optimal_sigma"] = sigma
        row["bits_per_dim_at_optimal_sigma"] = evaluate_bits_per_dim(
            twin, x_iwae, num_levels=levels, k=k, seed=seed, verbose=verbose)["bits_per_dim"]
    return row
