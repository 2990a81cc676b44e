"""Fully connected encoder and decoder: images (or any event) flattened to one vector."""

import keras

from vae_tf.networks.gaussian_encoder import GaussianEncoder


def mlp_encoder(latent_dim, hidden=(200, 200), activation="relu", name="mlp_encoder"):
    """``x -> flatten -> Dense(h, activation) for h in hidden -> q(z|x)`` over ``latent_dim``."""
    layers = [keras.layers.Flatten()] + [keras.layers.Dense(h, activation=activation) for h in hidden]
    return GaussianEncoder(keras.Sequential(layers, name=f"{name}_features"), latent_dim, name=name)


def mlp_decoder(hidden=(200, 200), activation="relu", name="mlp_decoder"):
    """``z -> Dense(h, activation) for h in hidden``: features for a likelihood layer to project."""
    return keras.Sequential([keras.layers.Dense(h, activation=activation) for h in hidden], name=name)
