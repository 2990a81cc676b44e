"""The encoder's diagonal Gaussian posterior ``q(z | x)``."""

import tensorflow as tf
import tensorflow_probability as tfp
import keras

from vae_tf.argument_checks import check_positive_int
from vae_tf.layers.bounded_scale import bounded_scale
from vae_tf.layers.distribution_layer import ProjectedLayer

tfd = tfp.distributions


@keras.saving.register_keras_serializable(package="vae_tf")
class DiagonalGaussianPosterior(ProjectedLayer):
    """The encoder's ``q(z | x) = N(z; mu(h), diag(sigma^2(h)))`` over ``latent_dim``.

    A Dense layer maps features ``h`` to ``(mu, log sigma^2)``; the scale is
    kept above ``min_scale`` with :func:`bounded_scale`. Returns
    ``Independent(Normal(mu, sigma), 1)``, which TFP's analytic KL handles.
    """

    def __init__(self, latent_dim, min_scale=1e-4, project=True, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        check_positive_int(latent_dim, "latent_dim")
        if not min_scale > 0:
            raise ValueError(f"DiagonalGaussianPosterior: min_scale must be > 0, got {min_scale!r}")
        self.latent_dim = int(latent_dim)
        self.min_scale = float(min_scale)
        self.project = bool(project)
        self.projection = keras.layers.Dense(2 * self.latent_dim, dtype=self.dtype_policy, name="projection") if project else None

    @staticmethod
    def params_size(latent_dim):
        """``2 * latent_dim``: a mean and a log-variance per latent unit."""
        return 2 * int(latent_dim)

    def parameters(self, inputs):
        """``(z_mean, z_log_var)``, each ``(batch, latent_dim)``, float32."""
        h = self.flat_features(inputs)
        params = self.projection(h) if self.projection is not None else h
        loc, raw_log_var = tf.split(params, 2, axis=-1)
        scale = bounded_scale(0.5 * raw_log_var, self.min_scale)
        return loc, 2.0 * tf.math.log(scale)

    @staticmethod
    def distribution(loc, log_var):
        """``Independent(Normal(loc, exp(log_var / 2)), 1)``: the posterior from its parameters."""
        return tfd.Independent(tfd.Normal(loc, tf.exp(0.5 * log_var)), reinterpreted_batch_ndims=1)

    def call(self, inputs):
        return self.distribution(*self.parameters(inputs))

    def get_config(self):
        return {**super().get_config(), "latent_dim": self.latent_dim, "min_scale": self.min_scale, "project": self.project}
