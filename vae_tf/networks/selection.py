"""Which network a VAE gets for its images, building the pair that fits its likelihood, and naming it in reports."""

import keras
import numpy as np

from vae_tf.errors import InvalidInputError
from vae_tf.networks.architectures import (ResidualBlock, conv_decoder, conv_encoder, mlp_decoder, mlp_encoder,
                                           resnet_decoder, resnet_encoder)


#: The networks ``choose_network`` knows (``"auto"`` picks one by the image shape).
NETWORKS = ("auto", "mlp", "conv", "resnet")
#: ``network="auto"`` picks the residual network for images at least this high and wide, or in colour.
AUTO_CONV_MIN_SIZE = 32
#: Stride-2 stages of the default conv and resnet networks: ``H`` and ``W`` must divide by ``2 ** 2``.
IMAGE_STAGES = 2


def choose_network(event_shape, network="auto"):
    """The network's name, one of ``"mlp"``, ``"conv"``, ``"resnet"``.

    ``"auto"``: ``"resnet"`` for colour images ``(H, W, C > 1)`` or images of at least
    ``32 x 32`` whose sides divide by ``2 ** IMAGE_STAGES``; ``"mlp"`` otherwise (flat data, 8x8 digits,
    28x28 MNIST). Why MNIST stays an MLP: at the demo's budget the MLP reaches a better ELBO per
    second of CPU training than either convolutional network (5,000 MNIST images, 4 epochs of a
    discretized normal: validation -ELBO 1.900 / 1.956 / 1.835 bits/dim for MLP / conv / resnet in
    31 / 55 / 125 s, on the shared 2-core CPU), and every MNIST number in the README is an MLP's. A name other than ``"auto"``
    is returned as given, after checking it is one of :data:`NETWORKS`.
    """
    if network not in NETWORKS:
        raise InvalidInputError(f"network must be one of {', '.join(NETWORKS)}, got {network!r}.")
    if network != "auto":
        return network
    shape = tuple(int(d) for d in event_shape)
    if len(shape) != 3:
        return "mlp"
    h, w, c = shape
    divisible = h % 2 ** IMAGE_STAGES == 0 and w % 2 ** IMAGE_STAGES == 0
    return "resnet" if divisible and (c > 1 or min(h, w) >= AUTO_CONV_MIN_SIZE) else "mlp"


def params_per_value(likelihood):
    """Numbers a decoder outputs per image value for ``likelihood``: ``num_params() / D``.

    1 for the Bernoulli types and a Gaussian with fixed or shared sigma, 2 with per-pixel sigma,
    ``3 K`` for a mixture of ``K`` discretized logistics, the rank (or ``L``) of the categorical.
    Every layer keeps one value's parameters together (pixel-major), so a convolutional decoder's
    ``(H, W, C * params_per_value)`` output gives each pixel the parameters computed at that pixel.
    A layer whose parameters belong to whole pixels (the channel-coupled mixture on RGB) has none per
    value: ``ValueError``; use :func:`params_per_pixel`.
    """
    total, size = int(likelihood.num_params()), int(likelihood.event_size)
    if total % size or getattr(likelihood, "coupled", False):
        raise ValueError(f"{type(likelihood).__name__}: its {total} parameters belong to whole pixels, not to each of "
                         f"the {size} values; use params_per_pixel.")
    return total // size


def params_per_pixel(likelihood):
    """Numbers a conv decoder outputs per position ``(h, w)`` for ``likelihood``: ``num_params() / (H W)``.

    ``C * params_per_value`` for the per-value layers, ``10 K`` for the channel-coupled logistic mixture
    on RGB (its ``params_per_pixel()``).
    """
    own = getattr(likelihood, "params_per_pixel", None)
    if own is not None:
        return int(own())
    pixels = int(np.prod(likelihood.event_shape[:-1]))
    return int(likelihood.num_params()) // pixels


def projects_features(network):
    """Whether the likelihood layer owns the Dense projection (the MLP) or takes per-pixel parameters (conv, resnet)."""
    return network == "mlp"


def build_networks(network, event_shape, latent_dim, params_per_pixel=1, hidden=(200, 200), activation="relu"):
    """``(encoder, decoder)`` of the named network (``"mlp"``, ``"conv"`` or ``"resnet"``; see :func:`choose_network`).

    The MLP uses ``hidden`` and leaves the projection to the likelihood layer; ``conv`` and ``resnet``
    use their default widths and output ``(H, W, params_per_pixel)`` parameters for a likelihood
    layer built with ``project=False`` (:func:`projects_features`, :func:`params_per_pixel`).
    """
    if network == "mlp":
        return (mlp_encoder(latent_dim, hidden=hidden, activation=activation),
                mlp_decoder(hidden=hidden, activation=activation))
    if network == "conv":
        return conv_encoder(latent_dim), conv_decoder(event_shape, params_per_pixel=params_per_pixel)
    if network == "resnet":
        return (resnet_encoder(latent_dim, activation=activation),
                resnet_decoder(event_shape, params_per_pixel=params_per_pixel, activation=activation))
    raise InvalidInputError(f"network must be one of mlp, conv, resnet (or auto, resolved by choose_network), "
                            f"got {network!r}.")


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
    """``"<kind>, <N> parameters"`` of a VAE: its encoder's and decoder's kind and all its weights (built models count all);
    a model of another family (without an encoder) gives its own ``model.describe()`` as the kind.

    ``N`` counts every weight of the model, the likelihood layer's and non-trainable ones included;
    an unbuilt model has none yet, and says so.
    """
    kind = network_kind(model.encoder, model.decoder) if hasattr(model, "encoder") else model.describe()
    if not model.built:
        return f"{kind}, not built yet"
    return f"{kind}, {model.count_params():,} parameters"
