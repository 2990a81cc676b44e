"""Encoder and decoder networks.

An encoder maps ``x`` to ``q(z | x)`` (a TFP distribution); a decoder maps
``z`` to features that the likelihood layer turns into ``p(x | z)`` (the MLP), or to
``(H, W, C * params_per_value)`` parameters for a likelihood layer built with ``project=False``
(conv, resnet).

Modules::

    gaussian_encoder   GaussianEncoder: a feature network followed by q(z|x)
    mlp                mlp_encoder, mlp_decoder
    conv               conv_encoder, conv_decoder: stride-2 convolutions
    resnet             resnet_encoder, resnet_decoder, ResidualBlock: stride-2 stages of residual blocks
    image_shape        check_image_shape: (H, W, C), sides divisible by 2 ** stages
    choice             choose_network ("auto" -> mlp or resnet), build_networks, params_per_pixel
    precision          choose_precision, set_network_precision: bfloat16 networks where the CPU has it natively
    description        describe_network ("resnet, 1,234,567 parameters"), has_convolutions
"""

from vae_tf.networks.choice import (build_networks, choose_network, params_per_pixel, params_per_value,
                                    projects_features)
from vae_tf.networks.conv import conv_decoder, conv_encoder
from vae_tf.networks.description import describe_network, has_convolutions, network_kind
from vae_tf.networks.gaussian_encoder import GaussianEncoder
from vae_tf.networks.image_shape import check_image_shape
from vae_tf.networks.mlp import mlp_decoder, mlp_encoder
from vae_tf.networks.precision import (PRECISIONS, choose_precision, cpu_has_native_bfloat16,
                                       network_precision, set_network_precision)
from vae_tf.networks.resnet import ResidualBlock, resnet_decoder, resnet_encoder

__all__ = [
    "PRECISIONS", "choose_precision", "cpu_has_native_bfloat16", "network_precision", "set_network_precision",
    "GaussianEncoder", "ResidualBlock", "build_networks", "check_image_shape", "choose_network", "conv_decoder",
    "conv_encoder", "describe_network", "has_convolutions", "mlp_decoder", "mlp_encoder", "network_kind",
    "params_per_pixel", "params_per_value", "projects_features", "resnet_decoder", "resnet_encoder",
]
