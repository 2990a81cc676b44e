"""Test-set measurements of a trained VAE, all in nats per image unless said otherwise."""

import math

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from vae_tf import layers
from vae_tf.models.vae.model import VAE

tfd = tfp.distributions

#: A latent unit is active when the posterior mean moves with the input:
#: ``Var_x(E_q[z_j | x]) > 0.01`` (Burda et al., 2015).
ACTIVE_UNIT_THRESHOLD = 0.01


def _batches(x, batch_size):
    for start in range(0, len(x), batch_size):
        yield tf.constant(x[start:start + batch_size])


def reconstruction_mse(model, x, batch_size=1000):
    """Mean squared error per pixel of the reconstruction at the posterior mean:
    ``mean_{n,d} (x_nd - E[p(x|z = E[q(z|x_n)])]_d)^2``."""
    total = 0.0
    for xb in _batches(x, batch_size):
        total += float(tf.reduce_sum(tf.square(model.reconstruct(xb) - xb)))
    return total / x.size


def kl_and_active_units(model, x, batch_size=1000):
    """``(mean_n KL(q(z|x_n) || p(z)), number of j with Var_n(E_q[z_j | x_n]) > 0.01)``."""
    kls, means = [], []
    prior = model.prior()
    for xb in _batches(x, batch_size):
        q = model.encode(xb)
        kls.append(tfd.kl_divergence(q, prior).numpy())
        means.append(q.mean().numpy())
    means = np.concatenate(means)
    return float(np.mean(np.concatenate(kls))), int(np.sum(means.var(axis=0) > ACTIVE_UNIT_THRESHOLD))


def with_gaussian_sigma(model, sigma, x_example):
    """The same encoder, decoder and mean projection, with a Gaussian decoder of fixed ``sigma``.

    Used to score a fixed-sigma model at the sigma that fits the test data best.
    """
    likelihood = layers.IndependentNormal(model.event_shape, scale=float(sigma))
    twin = VAE(model.encoder, model.decoder, likelihood, seed=model.seed)
    twin.build(x_example.shape)
    likelihood.projection.set_weights(model.likelihood.projection.get_weights())
    return twin


def bits_per_dim(log_likelihood, num_dims):
    """``-log p(x) / (D log 2)``: only meaningful for a probability mass on discrete (binary) pixels."""
    return -log_likelihood / (num_dims * math.log(2.0))


def evaluate_vae(model, config, x_test, k=1000, iwae_examples=1000, seed=0, verbose=0):
    """Test-set numbers for one model.

    * ``test_elbo``: ``mean_n [log p(x_n|z) - KL(q(z|x_n) || p(z))]``, one ``z ~ q`` per image;
    * ``test_iwae``: ``mean_n log (1/k) sum_i p(x_n, z_i) / q(z_i|x_n)`` over the first
      ``iwae_examples`` test images (Burda et al., 2015), a tighter lower bound on ``log p(x)``;
    * ``recon_mse``: :func:`reconstruction_mse`; ``kl`` and ``active_units``: :func:`kl_and_active_units`;
    * ``bits_per_dim``: ``-test_iwae / (D log 2)`` for binarized data, else None (a density on
      continuous grey values is not a probability of the 8-bit image);
    * fixed-sigma Gaussians also get ``optimal_sigma = sqrt(recon_mse)`` and the ELBO and IWAE
      there, so an MSE-trained model is judged on its best Gaussian, as one trained by NLL is.
    """
    d = int(np.prod(x_test.shape[1:]))
    x_iwae = x_test[:iwae_examples]
    row = {"test_elbo": float(np.mean(model.elbo(x_test))),
           "test_iwae": float(np.mean(model.iwae_log_likelihood(x_iwae, k=k, seed=seed, verbose=verbose))),
           "iwae_k": int(k), "iwae_examples": int(len(x_iwae))}
    row["recon_mse"] = reconstruction_mse(model, x_test)
    row["kl"], row["active_units"] = kl_and_active_units(model, x_test)
    row["bits_per_dim"] = bits_per_dim(row["test_iwae"], d) if config.binarized and config.likelihood == "bernoulli" else None
    row["decoder_sigma"] = None
    row["optimal_sigma"] = row["elbo_at_optimal_sigma"] = row["iwae_at_optimal_sigma"] = None
    if config.likelihood == "gaussian":
        scale = model.likelihood.current_scale()
        row["decoder_sigma"] = None if scale is None else float(scale)
    if config.fixed_sigma:
        sigma = math.sqrt(row["recon_mse"])
        twin = with_gaussian_sigma(model, sigma, x_test)
        row["optimal_sigma"] = sigma
        row["elbo_at_optimal_sigma"] = float(np.mean(twin.elbo(x_test)))
        row["iwae_at_optimal_sigma"] = float(np.mean(twin.iwae_log_likelihood(x_iwae, k=k, seed=seed, verbose=verbose)))
    return row
