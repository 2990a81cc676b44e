"""Encoder and decoder networks, which one a VAE gets, and the arithmetic they compute in.

An encoder maps ``x`` to ``q(z | x)`` (a TFP distribution); a decoder maps ``z`` to features that the likelihood
layer turns into ``p(x | z)`` (the MLP), or to ``(H, W, params_per_pixel)`` parameters for a likelihood layer built
with ``project=False`` (conv, resnet).

Its modules::

    architectures  GaussianEncoder; mlp_*, conv_*, resnet_* encoders and decoders; ResidualBlock
    selection      choose_network ("auto" -> mlp or resnet), build_networks, params_per_pixel, describe_network
    precision      choose_precision, set_network_precision: bfloat16 networks where the CPU has it natively
"""

from vae_tf.networks.architectures import (GaussianEncoder, ResidualBlock, check_image_shape, conv_decoder,
                                           conv_encoder, mlp_decoder, mlp_encoder, resnet_decoder, resnet_encoder)
from vae_tf.networks.precision import (PRECISIONS, bfloat16_pays_off, choose_precision, cpu_has_native_bfloat16,
                                       network_precision, set_layers_precision, set_network_precision)
from vae_tf.networks.selection import (NETWORKS, build_networks, choose_network, describe_network, has_convolutions,
                                       network_kind, params_per_pixel, params_per_value, projects_features)

__all__ = [
    "NETWORKS", "PRECISIONS", "GaussianEncoder", "ResidualBlock", "bfloat16_pays_off", "build_networks", "check_image_shape",
    "choose_network", "choose_precision", "conv_decoder", "conv_encoder", "cpu_has_native_bfloat16",
    "describe_network", "has_convolutions", "mlp_decoder", "mlp_encoder", "network_kind", "network_precision",
    "params_per_pixel", "params_per_value", "projects_features", "resnet_decoder", "resnet_encoder",
    "set_layers_precision", "set_network_precision",
]
