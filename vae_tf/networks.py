"""Encoder and decoder networks.

An encoder maps ``x`` to ``q(z | x)`` (a TFP distribution); a decoder maps
``z`` to features that the likelihood layer turns into ``p(x | z)``.
"""

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


def mlp_encoder(latent_dim, hidden=(200, 200), activation="relu", name="mlp_encoder"):
    """``x -> flatten -> Dense(h, activation) for h in hidden -> q(z|x)`` over ``latent_dim``."""
    layers = [keras.layers.Flatten()] + [keras.layers.Dense(h, activation=activation) for h in hidden]
    return GaussianEncoder(keras.Sequential(layers, name=f"{name}_features"), latent_dim, name=name)


def mlp_decoder(hidden=(200, 200), activation="relu", name="mlp_decoder"):
    """``z -> Dense(h, activation) for h in hidden``: features for a likelihood layer to project."""
    return keras.Sequential([keras.layers.Dense(h, activation=activation) for h in hidden], name=name)


def conv_encoder(latent_dim, filters=(32, 64), dense=256, name="conv_encoder"):
    """Two stride-2 3x3 convolutions, then Dense(``dense``), then ``q(z|x)``; for image input ``(H, W, C)``."""
    layers = [keras.layers.Conv2D(f, 3, strides=2, padding="same", activation="relu") for f in filters]
    layers += [keras.layers.Flatten(), keras.layers.Dense(dense, activation="relu")]
    return GaussianEncoder(keras.Sequential(layers, name=f"{name}_features"), latent_dim, name=name)


def conv_decoder(event_shape, params_per_value=1, filters=(64, 32), name="conv_decoder", params_per_pixel=None):
    """Mirror of :func:`conv_encoder`; outputs ``(H, W, C * params_per_value)`` parameters.

    Use it with a likelihood layer built with ``project=False``, and
    ``params_per_value=2`` for ``IndependentNormal(scale="per_pixel")``. A likelihood
    whose parameters are per pixel rather than per value (the channel-coupled logistic
    mixture on RGB: ``10 K`` per pixel) passes ``params_per_pixel=layer.params_per_pixel()``
    instead, which sets the output to ``(H, W, params_per_pixel)``.
    ``H`` and ``W`` must be divisible by ``2 ** len(filters)``.
    """
    h, w, c = event_shape
    f = 2 ** len(filters)
    if h % f or w % f:
        raise ValueError(f"conv_decoder: height and width {h}x{w} must be divisible by {f}")
    layers = [
        keras.layers.Dense((h // f) * (w // f) * filters[0], activation="relu"),
        keras.layers.Reshape((h // f, w // f, filters[0])),
    ]
    layers += [keras.layers.Conv2DTranspose(n, 3, strides=2, padding="same", activation="relu") for n in filters]
    per_pixel = int(params_per_pixel) if params_per_pixel is not None else c * params_per_value
    layers += [keras.layers.Conv2D(per_pixel, 3, padding="same")]
    return keras.Sequential(layers, name=name)
