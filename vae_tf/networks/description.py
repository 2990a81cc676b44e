"""What network a VAE has, in words, for reports: ``"resnet, 1,234,567 parameters"``."""

import keras

from vae_tf.networks.resnet import ResidualBlock

#: Keras layers that make a network convolutional.
CONVOLUTIONS = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D, keras.layers.Conv1DTranspose,
                keras.layers.Conv2DTranspose, keras.layers.Conv3DTranspose, keras.layers.DepthwiseConv2D,
                keras.layers.SeparableConv2D)


def all_sublayers(layer):
    """``layer`` and every layer inside it, however deep (Sequential, custom layers)."""
    return [layer, *layer._flatten_layers(include_self=False, recursive=True)]


def network_kind(*layers):
    """``"resnet"`` if any of ``layers`` holds a :class:`ResidualBlock`, ``"conv"`` if one holds a convolution, else ``"mlp"``."""
    found = [sub for layer in layers for sub in all_sublayers(layer)]
    if any(isinstance(sub, ResidualBlock) for sub in found):
        return "resnet"
    if any(isinstance(sub, CONVOLUTIONS) for sub in found):
        return "conv"
    return "mlp"


def has_convolutions(*layers):
    """True when any of ``layers`` contains a convolution (what decides ``VAE.compile``'s XLA default)."""
    return any(isinstance(sub, CONVOLUTIONS) for layer in layers for sub in all_sublayers(layer))


def describe_network(model):
    """``"<kind>, <N> parameters"`` of a VAE: its encoder's and decoder's kind and all its weights (built models count all).

    ``N`` counts every weight of the model, the likelihood layer's and non-trainable ones included;
    an unbuilt model has none yet, and says so.
    """
    kind = network_kind(model.encoder, model.decoder)
    if not model.built:
        return f"{kind}, not built yet"
    return f"{kind}, {model.count_params():,} parameters"
