"""The held-out numbers of a trained VAE, whatever loss trained it: ELBO, IWAE, bits/dim, reconstruction error,
KL and active latent units (:func:`held_out_metrics`; ``vae-tf evaluate`` prints them, ``vae_tf.compare`` ranks them),
and a fixed-sigma (MSE-trained) model scored at the sigma that fits the test data best.
"""

import math

import numpy as np
import tensorflow as tf

from vae_tf.evaluation.bits_per_dim import (NO_LIKELIHOOD_REASON, NoLikelihoodError, evaluate_bits_per_dim,
                                            log_probability_of_levels, nats_to_bits_per_dim, scored_inputs)
from vae_tf.evaluation.estimators import elbo, iwae_log_likelihood, model_rows_per_chunk


#: A latent unit is active when the posterior mean moves with the input:
#: ``Var_x(E_q[z_j | x]) > 0.01`` (Burda et al., 2015).
ACTIVE_UNIT_THRESHOLD = 0.01


def _batches(x, batch_size):
    for start in range(0, len(x), batch_size):
        yield tf.constant(x[start:start + batch_size])


def reconstruction_mse(model, x, batch_size=100):
    """Mean squared error per pixel of the reconstruction at the posterior mean:
    ``mean_{n,d} (x_nd - E[p(x|z = E[q(z|x_n)])]_d)^2``.

    Batches of 100: the mean of a decoder over the levels (categorical, logistic mixture) sums over
    all ``L`` levels of every pixel."""
    total = 0.0
    for xb in _batches(x, batch_size):
        total += float(tf.reduce_sum(tf.square(model.reconstruct(xb) - xb)))
    return total / x.size


def kl_and_active_units(model, x, batch_size=1000):
    """``(mean_n KL(q(z|x_n) || p(z)), number of j with Var_n(E_q[z_j | x_n]) > 0.01, [mean_n KL_i per latent layer])``.

    ``KL = sum_i KL_i`` over the model's latent layers (one for a ``VAE``; a hierarchy's given the layers above),
    from ``model.latent_summary``."""
    kls, means = [], []
    for xb in _batches(x, batch_size):
        layer_kls, mean = model.latent_summary(xb)
        kls.append(np.stack([kl.numpy() for kl in layer_kls], axis=1))
        means.append(mean.numpy().reshape(len(mean), -1))
    kls, means = np.concatenate(kls), np.concatenate(means)
    return (float(np.mean(kls.sum(axis=1))), int(np.sum(means.var(axis=0) > ACTIVE_UNIT_THRESHOLD)),
            [float(v) for v in kls.mean(axis=0)])


def decoder_sigma(model):
    """The sigma ``model`` is scored at: its ``scored_sigma`` when its loss trained only the decoder's mean, else
    the likelihood's shared sigma (fixed or learned); None when it has none (per pixel, not Gaussian)."""
    if getattr(model, "scored_sigma", None) is not None:
        return float(model.scored_sigma)
    current_scale = getattr(model.likelihood, "current_scale", None)
    scale = current_scale() if current_scale is not None else None
    return None if scale is None else float(scale)


def standard_error(values):
    """The standard error of the mean of ``values``: ``std(values, ddof=1) / sqrt(n)`` (None for fewer than 2)."""
    values = np.asarray(values, np.float64)
    if values.size < 2:
        return None
    return float(np.std(values, ddof=1) / np.sqrt(values.size))


def held_out_metrics(model, x_levels, k=1000, iwae_examples=None, seed=0, iwae_seed=None, batch_size=1000, verbose=0):
    """The held-out numbers of a trained model, from grey levels ``x_levels = k / (L - 1)`` (binary when binarized;
    ``L`` is the decoder's, its :class:`~vae_tf.support.Support`'s ``num_levels``).

    What is scored, ``y``, follows the decoder (:func:`vae_tf.evaluation.scored_inputs`): the
    levels themselves, or for a density one fixed dequantized draw ``(k + u) / L`` from ``seed``; the IWAE
    draws come from ``iwae_seed`` (default ``seed``). The likelihood numbers are taken on the same
    ``scored_examples`` images, the first ``iwae_examples`` (default all), so that ``IWAE >= ELBO`` can be
    read off them. Returns:

    * ``test_elbo`` and ``test_iwae`` (IWAE with ``k`` samples), the model's own log-likelihood bounds, nats
      per image, both means over the ``scored_examples`` images;
    * ``bits_per_dim = -log2 P(k) / D`` from that IWAE, its standard error over those images
      ``bits_per_dim_se = std_n(bits/dim_n) / sqrt(n)``, ``bits_per_dim_method`` (``"exact"`` or
      ``"dequantized bound"``) and ``log_prob`` (``log P(k)`` in nats, or its bound); all None, with
      ``no_bits_reason``, when the model defines no probability of the data (BCE on grey values);
    * over all ``test_examples`` images: ``recon_mse`` (:func:`reconstruction_mse`, at ``z = E[q(z|x)]``),
      ``mean_image_mse`` (the MSE of predicting every test image by the mean test image: a baseline for it),
      ``kl``, ``active_units`` of ``latent_units`` and ``layer_kl`` (per latent layer, :func:`kl_and_active_units`);
    * ``decoder_sigma`` (:func:`decoder_sigma`), ``iwae_k``, ``iwae_examples``, ``num_levels``, ``num_dims``, ``dequantized``.
    """
    x_levels = np.asarray(x_levels, np.float32)
    iwae_examples = len(x_levels) if iwae_examples is None else int(iwae_examples)
    scored = min(iwae_examples, len(x_levels))
    row = {"iwae_k": int(k), "iwae_examples": scored, "scored_examples": scored, "test_examples": len(x_levels),
           "bits_per_dim": None, "bits_per_dim_se": None, "bits_per_dim_method": None, "no_bits_reason": None,
           "log_prob": None, "num_levels": model.likelihood.support.num_levels}
    try:
        y, method, levels = scored_inputs(model.likelihood, x_levels, seed)
    except NoLikelihoodError:
        y, method, levels = x_levels, None, row["num_levels"]
        row["no_bits_reason"] = NO_LIKELIHOOD_REASON
    d = int(np.prod(y.shape[1:]))
    row.update(num_dims=d, num_levels=levels, dequantized=y is not x_levels)
    # A batch of rows holds every row's distribution parameters (a categorical: D x L logits per row, 3 GB for
    # 1,000 CIFAR-10 images) and network activations: no more rows at once than one IWAE chunk holds.
    elbo_batch = max(1, min(int(batch_size), model_rows_per_chunk(model, y.shape[1:])))
    row["test_elbo"] = float(np.mean(elbo(model, y[:scored], batch_size=elbo_batch)))
    ll = iwae_log_likelihood(model, y[:scored], k=k, seed=seed if iwae_seed is None else iwae_seed,
                             verbose=verbose)
    row["test_iwae"] = float(np.mean(ll))
    if method is not None:
        per_image = log_probability_of_levels(ll, d, method, levels)
        row["log_prob"] = float(np.mean(per_image))
        row["bits_per_dim"] = float(nats_to_bits_per_dim(row["log_prob"], d))
        row["bits_per_dim_se"] = standard_error(nats_to_bits_per_dim(np.asarray(per_image, np.float64), d))
        row["bits_per_dim_method"] = method
    row["recon_mse"] = reconstruction_mse(model, y)
    row["mean_image_mse"] = float(np.mean(np.square(y - y.mean(axis=0, keepdims=True))))
    row["kl"], row["active_units"], row["layer_kl"] = kl_and_active_units(model, y)
    row["latent_units"] = int(model.latent_dim)
    row["decoder_sigma"] = decoder_sigma(model)
    return row


def with_fixed_sigma(model, sigma, x_example):
    """A model of ``model``'s class with ``model``'s networks and likelihood layer, scored as the same kind of
    Gaussian (continuous or discretized) centred at ``model``'s decoder *means* with a fixed ``sigma``
    (its ``scored_sigma``: :func:`vae_tf.reconstruction.scored_likelihood`, the one path by which a model trained on
    its mean is scored).

    The means, not the Gaussian's location, are what an MSE loss trains: for a discretized Gaussian with a
    wide sigma the two differ, since the edge bins take the tails. The family builds the twin
    (``model.with_scored_sigma``).
    """
    return model.with_scored_sigma(sigma, x_example)


def bits_per_dim_at_optimal_sigma(model, x, mse, k=1000, seed=0, verbose=0):
    """``(sigma*, bits/dim)``: ``sigma* = sqrt(mse)`` and the bits/dim of ``x`` under :func:`with_fixed_sigma` at it."""
    sigma = math.sqrt(mse)
    twin = with_fixed_sigma(model, sigma, x)
    return sigma, evaluate_bits_per_dim(twin, x, k=k, seed=seed, verbose=verbose)["bits_per_dim"]
