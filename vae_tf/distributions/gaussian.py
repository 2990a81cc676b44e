"""The standard normal prior ``p(z) = N(0, I)`` and the closed-form KL of a diagonal Gaussian to it."""

import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions


def standard_normal_prior(latent_dim, dtype=tf.float32):
    """``p(z) = N(0, I)`` over ``latent_dim`` units."""
    zeros = tf.zeros([latent_dim], dtype)
    return tfd.Independent(tfd.Normal(zeros, tf.ones_like(zeros)), reinterpreted_batch_ndims=1)


def diagonal_gaussian_kl(z_mean, z_log_var):
    """``KL(N(mu, diag sigma^2) || N(0, I))`` per example (Kingma & Welling, 2014, appendix B).

    Formula: ``0.5 * sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)``.
    """
    return 0.5 * tf.reduce_sum(tf.square(z_mean) + tf.exp(z_log_var) - 1.0 - z_log_var, axis=-1)
