"""Measurements of a trained VAE on a set of images that do not depend on its loss: reconstruction error,
KL and active latent units (``vae-tf evaluate`` and ``vae_tf.compare`` both print them)."""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions

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
    """``(mean_n KL(q(z|x_n) || p(z)), number of j with Var_n(E_q[z_j | x_n]) > 0.01)``."""
    kls, means = [], []
    prior = model.prior()
    for xb in _batches(x, batch_size):
        q = model.encode(xb)
        kls.append(tfd.kl_divergence(q, prior).numpy())
        means.append(q.mean().numpy())
    means = np.concatenate(means)
    return float(np.mean(np.concatenate(kls))), int(np.sum(means.var(axis=0) > ACTIVE_UNIT_THRESHOLD))
