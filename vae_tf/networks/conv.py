"""Plain convolutional encoder and decoder: stride-2 3x3 convolutions, no skips."""

import keras

from vae_tf.networks.gaussian_encoder import GaussianEncoder
from vae_tf.networks.image_shape import check_image_shape


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
    mixture on RGB: ``10 K`` per pixel) passes ``params_per_pixel`` instead
    (:func:`vae_tf.networks.params_per_pixel`), which sets the output to ``(H, W, params_per_pixel)``.
    ``H`` and ``W`` must be divisible by ``2 ** len(filters)`` (else ``InvalidInputError``).
    """
    h, w, c = check_image_shape(event_shape, len(filters), "conv_decoder")
    f = 2 ** len(filters)
    layers = [
        keras.layers.Dense((h // f) * (w // f) * filters[0], activation="relu"),
        keras.layers.Reshape((h // f, w // f, filters[0])),
    ]
    layers += [keras.layers.Conv2DTranspose(n, 3, strides=2, padding="same", activation="relu") for n in filters]
    per_pixel = int(params_per_pixel) if params_per_pixel is not None else c * params_per_value
    layers += [keras.layers.Conv2D(per_pixel, 3, padding="same")]
    return keras.Sequential(layers, name=name)
