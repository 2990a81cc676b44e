"""The encoder shape every network here shares: a feature network followed by ``q(z | x)``."""

import keras

from vae_tf.layers import DiagonalGaussianPosterior


@keras.saving.register_keras_serializable(package="vae_tf")
class GaussianEncoder(keras.layers.Layer):
    """A feature network followed by :class:`DiagonalGaussianPosterior`."""

    def __init__(self, network, latent_dim, **kwargs):
        super().__init__(**kwargs)
        self.network = network
        self.latent_dim = int(latent_dim)
        self.posterior = DiagonalGaussianPosterior(self.latent_dim, name="posterior")

    def build(self, input_shape):
        self.network.build(input_shape)
        self.posterior.build(self.network.compute_output_shape(input_shape))
        super().build(input_shape)

    def parameters(self, x, training=None):
        """``(z_mean, z_log_var)`` of ``q(z | x)``."""
        return self.posterior.parameters(self.network(x, training=training))

    def call(self, x, training=None):
        return self.posterior(self.network(x, training=training))

    def get_config(self):
        return {
            **super().get_config(),
            "network": keras.saving.serialize_keras_object(self.network),
            "latent_dim": self.latent_dim,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["network"] = keras.saving.deserialize_keras_object(config["network"])
        return cls(**config)
