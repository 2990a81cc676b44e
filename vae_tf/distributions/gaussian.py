"""The latent side's Gaussians: the standard normal prior, its closed-form KL, and a fast reparameterised draw."""

import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions


def standard_normal_prior(latent_dim, dtype=tf.float32):
    """``p(z) = N(0, I)`` over ``latent_dim`` units."""
    zeros = tf.zeros([latent_dim], dtype)
    return tfd.Independent(tfd.Normal(zeros, tf.ones_like(zeros)), reinterpreted_batch_ndims=1)


def diagonal_gaussian_kl(z_mean, z_log_var):
    r"""``KL(N(mu, diag sigma^2) || N(0, I))`` per example (Kingma & Welling, 2014, appendix B).

    Formula::

        0.5 * sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)

    .. math::

        \mathrm{KL}\big(\mathcal{N}(\mu, \operatorname{diag}\sigma^2) \,\|\, \mathcal{N}(0, I)\big)
        = \frac{1}{2} \sum_{j} \big(\mu_j^2 + \sigma_j^2 - 1 - \log\sigma_j^2\big)
    """
    return 0.5 * tf.reduce_sum(tf.square(z_mean) + tf.exp(z_log_var) - 1.0 - z_log_var, axis=-1)


def reparameterized_sample(q, seed, sample_shape=()):
    """A reparameterised draw from ``q`` with the same law as ``q.sample(sample_shape, seed=seed)``.

    For ``q = Independent(Normal(mu, sigma))`` it computes ``z = mu + sigma * eps``,
    ``eps ~ N(0, I)`` drawn with the Philox generator named explicitly; any
    other ``q`` falls back to ``q.sample``. Why: TFP leaves the generator to
    TensorFlow's "auto-select", which under XLA on CPU cost about 30x Philox
    (3.9 ms against 0.13 ms for a 100x50 draw, more than the whole encoder).
    """
    base = getattr(q, "distribution", None)
    if not (isinstance(q, tfd.Independent) and type(base) is tfd.Normal):
        return q.sample(sample_shape, seed=seed)
    loc, scale = base.loc, base.scale
    batch_shape = tf.broadcast_dynamic_shape(tf.shape(loc), tf.shape(scale))
    shape = tf.concat([tf.reshape(tf.cast(sample_shape, tf.int32), [-1]), batch_shape], 0)
    eps = tf.random.stateless_normal(shape, seed=seed, dtype=loc.dtype, alg="philox")
    return loc + scale * eps
