"""The signature bodies of the SavedModel: each checks its input in the graph, so a bad request fails with a message.

Inputs are checked in the graph from the decoder's declared support (:mod:`vae_tf.support`): shape,
finiteness, ``[0, 1]`` unless the decoder is a density on the real line, and for a decoder over
``L`` levels that every pixel is on the grid ``k / (L - 1)`` (the package's one grid tolerance).
"""

import tensorflow as tf

from vae_tf.distributions.bin_grid import on_grid_check
from vae_tf.export.serving_elbo import elbo_outputs
from vae_tf.support import support_of


def _trailing_shape_check(tensor, name, trailing):
    """An assert op: ``tensor`` is ``(batch, *trailing)``.

    Needed at run time because a signature called by name checks its inputs'
    dtype but not their shape: without it a wrong shape fails deep inside a
    Reshape with a message about value counts.
    """
    trailing = [int(d) for d in trailing]
    actual = tf.shape(tensor)
    rank_ok = tf.equal(tf.size(actual), 1 + len(trailing))
    ok = tf.cond(rank_ok, lambda: tf.reduce_all(tf.equal(actual[1:], trailing)), lambda: tf.constant(False))
    expected = "(batch, " + ", ".join(map(str, trailing)) + ")"
    return tf.debugging.Assert(ok, [f"{name} must have shape {expected} and dtype float32; got shape", actual])


class ServingGraph:
    """The signature bodies; each checks its input in the graph so a bad request fails with a message."""

    def __init__(self, model):
        self.model = model
        support = support_of(model.likelihood)
        self.levels = support.num_levels if support.on_grid else None
        self.unit_interval = support.within_unit_interval

    def _checked_images(self, x):
        checks = [_trailing_shape_check(x, "x", self.model.event_shape),
                  tf.debugging.assert_all_finite(x, "x contains NaN or Inf")]
        if self.unit_interval:
            name = type(self.model.likelihood).__name__
            message = f"the {name} decoder needs pixels in [0, 1] (0..255 pixels? divide by 255)"
            checks += [tf.debugging.assert_greater_equal(x, 0.0, message=message),
                       tf.debugging.assert_less_equal(x, 1.0, message=message)]
        if self.levels is not None:
            # A discretized decoder's log_prob would silently round an off-grid pixel to its nearest level.
            top = self.levels - 1
            message = (f"the {type(self.model.likelihood).__name__} decoder (num_bins={self.levels}) needs "
                       f"pixels on the grid k / {top}, k = 0..{top}, not dequantized or rescaled values")
            checks.append(on_grid_check(x, self.levels, message))
        with tf.control_dependencies(checks):
            return tf.identity(x)

    def _mean(self, px):
        return tf.cast(px.mean(), tf.float32)

    def serving_default(self, x):
        x = self._checked_images(x)
        q, z_mean, z_log_var = self.model.posterior(x, training=False)
        reconstruction = self._mean(self.model.decode(z_mean, training=False))
        return {"reconstruction": reconstruction, "elbo": elbo_outputs(self.model, x, q, z_mean, z_log_var)["elbo"]}

    def encode(self, x):
        _, z_mean, z_log_var = self.model.posterior(self._checked_images(x), training=False)
        return {"z_mean": z_mean, "z_log_var": z_log_var}

    def decode(self, z):
        with tf.control_dependencies([_trailing_shape_check(z, "z", (self.model.latent_dim,))]):
            z = tf.debugging.assert_all_finite(z, "z contains NaN or Inf")
        return {"mean": self._mean(self.model.decode(z, training=False))}

    def sample(self, num, seed):
        check = tf.debugging.assert_positive(num, message="sample: num must be a positive integer")
        with tf.control_dependencies([check]):
            z = self.model.prior().sample(num, seed=tf.stack([seed, tf.constant(0, tf.int32)]))
        return {"images": self._mean(self.model.decode(z, training=False))}

    def elbo(self, x):
        x = self._checked_images(x)
        return elbo_outputs(self.model, x, *self.model.posterior(x, training=False))


