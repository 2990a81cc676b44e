"""A reparameterised draw from a diagonal Gaussian posterior with the Philox generator named explicitly (same law, faster)."""

import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions


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


