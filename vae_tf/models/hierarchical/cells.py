"""The hierarchical VAE's building blocks: residual cells, the latent layers' Gaussian heads, patch stem and output,
and what one latent layer of a pass holds (:class:`LayerTerms`: its prior, posterior, sample, KL).

Every block keeps the residual stream in float32 and lets only its convolutions compute in the
networks' precision (bfloat16 under ``"mixed_bfloat16"``): a stream that many cells add to would
otherwise round at every addition. The layers that output distribution parameters stay float32
(:meth:`HierarchicalVAE.set_precision`).
"""

import math
from typing import Any, NamedTuple

import keras
import tensorflow as tf

from vae_tf.layers import bounded_scale


def _conv(filters, kernel, name, scale=1.0, zero=False):
    """A ``same``-padded convolution; its kernel He-initialised (times ``scale``), or zero."""
    if zero:
        init = "zeros"
    else:
        init = keras.initializers.VarianceScaling(scale=2.0 * scale, mode="fan_in", distribution="truncated_normal")
    return keras.layers.Conv2D(filters, kernel, padding="same", kernel_initializer=init, name=name)


@keras.saving.register_keras_serializable(package="vae_tf")
class ResidualCell(keras.layers.Layer):
    """``y = x + conv3x3_b(act(conv3x3_a(act(x))))`` on ``(batch, h, w, width)`` images (pre-activation).

    ``conv3x3_a`` maps ``width`` to ``hidden`` channels and ``conv3x3_b`` back. The residual branch's last
    kernel is initialised at ``1 / num_cells`` of He's variance, as VDVAE scales it by the depth (Child, 2021),
    so a deep stack starts close to the identity. The addition runs in ``x``'s dtype (float32).
    """

    def __init__(self, width, hidden=None, activation="silu", num_cells=1, **kwargs):
        kwargs.setdefault("autocast", False)  # the residual stream keeps its dtype; the convolutions cast
        super().__init__(**kwargs)
        self.width = int(width)
        self.hidden = int(hidden) if hidden is not None else self.width
        self.num_cells = int(num_cells)
        self._activation_name = activation
        self.activation = keras.activations.get(activation)
        self.conv_a = _conv(self.hidden, 3, "conv_a")
        self.conv_b = _conv(self.width, 3, "conv_b", scale=1.0 / max(1, self.num_cells))

    def build(self, input_shape):
        self.conv_a.build(input_shape)
        self.conv_b.build(tuple(input_shape[:-1]) + (self.hidden,))
        super().build(input_shape)

    def call(self, x):
        h = tf.cast(x, self.compute_dtype)
        h = self.conv_b(self.activation(self.conv_a(self.activation(h))))
        return x + tf.cast(h, x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "width": self.width, "hidden": self.hidden,
                "activation": self._activation_name, "num_cells": self.num_cells}


@keras.saving.register_keras_serializable(package="vae_tf")
class GaussianHead(keras.layers.Layer):
    """The ``(loc, raw log-scale)`` of a latent layer's Gaussian from features: ``conv1x1(act(conv3x3(act(h))))``.

    The output convolution starts at zero, so every prior starts as ``N(0, 1)`` (``bounded_scale(0) ~ 1``) and
    every relative posterior as its prior: the KL of each layer starts at 0. Its output is float32.
    """

    def __init__(self, channels, hidden, activation="silu", soft_clamp=0.0, **kwargs):
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)
        self.channels = int(channels)
        self.hidden = int(hidden)
        self.soft_clamp = float(soft_clamp)
        self._activation_name = activation
        self.activation = keras.activations.get(activation)
        self.features = _conv(self.hidden, 3, "features")
        self.parameters_conv = _conv(2 * self.channels, 1, "parameters", zero=True)

    def build(self, input_shape):
        self.features.build(input_shape)
        self.parameters_conv.build(tuple(input_shape[:-1]) + (self.hidden,))
        super().build(input_shape)

    def call(self, x):
        h = self.features(self.activation(tf.cast(x, self.compute_dtype)))
        params = tf.cast(self.parameters_conv(self.activation(h)), tf.float32)
        if self.soft_clamp > 0:
            # NVAE's soft clamp c tanh(v / c): one bad batch cannot push a location or log-scale far out,
            # where a KL of 10^5 nats and its gradient would wreck the weights.
            params = self.soft_clamp * tf.tanh(params / self.soft_clamp)
        loc, raw_scale = tf.split(params, 2, axis=-1)
        return loc, raw_scale

    def parameter_layers(self):
        """The layers whose output is a distribution's parameters (kept float32)."""
        return [self.parameters_conv]

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "hidden": self.hidden,
                "activation": self._activation_name, "soft_clamp": self.soft_clamp}


@keras.saving.register_keras_serializable(package="vae_tf")
class LatentLayer(keras.layers.Layer):
    """One stochastic layer of the top-down path: its prior, its posterior, and how its sample enters the stream.

    With ``h`` the top-down features (upsampled ``2**upsample`` times on entry) and ``e`` the bottom-up
    features at this resolution::

        p(z | z_above)    = N(mu_p, sigma_p),                  (mu_p, s_p) = prior_head(h)
        q(z | z_above, x) = N(mu_p + dmu, sigma_p exp(ds))     (dmu, ds) = posterior_head([h, e])  ("relative")
                          = N(dmu, bounded(ds))                                                  ("absolute")
        h'                = cells(h + conv1x1(z))

    ``sigma = bounded_scale(s, min_scale)`` keeps every scale above ``min_scale``; with ``soft_clamp = c > 0``
    every head's outputs pass through ``c tanh(v / c)`` first.
    """

    def __init__(self, shape, width, hidden, activation="silu", posterior="relative", min_scale=1e-3, cells=1,
                 upsample=0, num_cells=1, soft_clamp=0.0, **kwargs):
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)
        self.shape = tuple(int(d) for d in shape)
        self.width = int(width)
        self.hidden = int(hidden)
        self._activation_name = activation
        self.posterior_kind = posterior
        self.min_scale = float(min_scale)
        self.num_layer_cells = int(cells)
        self.upsample = int(upsample)
        self.num_cells = int(num_cells)
        channels = self.shape[-1]
        self.soft_clamp = float(soft_clamp)
        self.prior_head = GaussianHead(channels, hidden, activation, soft_clamp, name="prior")
        self.posterior_head = GaussianHead(channels, hidden, activation, soft_clamp, name="posterior")
        self.latent_projection = _conv(self.width, 1, "latent_projection", scale=1.0 / max(1, self.num_cells))
        self.cells = [ResidualCell(self.width, hidden, activation, num_cells, name=f"cell{i}")
                      for i in range(self.num_layer_cells)]

    def build(self, input_shape):
        size = tuple(input_shape[:1]) + self.shape[:2]
        self.prior_head.build(size + (self.width,))
        self.posterior_head.build(size + (2 * self.width,))
        self.latent_projection.build(size + (self.shape[-1],))
        for cell in self.cells:
            cell.build(size + (self.width,))
        super().build(input_shape)

    def enter(self, h):
        """The top-down features at this layer's resolution (nearest-neighbour upsampling)."""
        for _ in range(self.upsample):
            h = tf.repeat(tf.repeat(h, 2, axis=1), 2, axis=2)
        return h

    def prior(self, h):
        """``(mu_p, sigma_p)`` of ``p(z | z_above)`` from the entered features ``h``."""
        loc, raw = self.prior_head(h)
        return loc, bounded_scale(raw, self.min_scale)

    def posterior(self, h, e, prior):
        """``(mu_q, sigma_q)`` of ``q(z | z_above, x)`` from ``h``, the bottom-up features ``e`` and the prior."""
        delta_loc, raw = self.posterior_head(tf.concat([h, tf.cast(e, h.dtype)], axis=-1))
        if self.posterior_kind == "relative":
            prior_loc, prior_scale = prior
            return prior_loc + delta_loc, bounded_scale(tf.math.log(prior_scale) + raw, self.min_scale)
        return delta_loc, bounded_scale(raw, self.min_scale)

    def absorb(self, h, z):
        """The features after this layer: ``cells(h + conv1x1(z))``."""
        h = h + tf.cast(self.latent_projection(tf.cast(z, self.compute_dtype)), h.dtype)
        for cell in self.cells:
            h = cell(h)
        return h

    def call(self, h):
        """Features after the layer at the prior mean (a forward pass for building and summaries)."""
        h = self.enter(h)
        loc, _ = self.prior(h)
        return self.absorb(h, loc)

    def parameter_layers(self):
        return self.prior_head.parameter_layers() + self.posterior_head.parameter_layers()

    def get_config(self):
        return {**super().get_config(), "shape": list(self.shape), "width": self.width, "hidden": self.hidden,
                "activation": self._activation_name, "posterior": self.posterior_kind, "min_scale": self.min_scale,
                "cells": self.num_layer_cells, "upsample": self.upsample, "num_cells": self.num_cells,
                "soft_clamp": self.soft_clamp}


def space_to_depth(x, patch_size):
    """``(b, H, W, C)`` to ``(b, H/p, W/p, p*p*C)``: each ``p x p`` patch becomes one position."""
    return x if patch_size == 1 else tf.nn.space_to_depth(x, patch_size)


def depth_to_space(x, patch_size):
    """The inverse of :func:`space_to_depth`: ``(b, h, w, p*p*P)`` to ``(b, p*h, p*w, P)``."""
    return x if patch_size == 1 else tf.nn.depth_to_space(x, patch_size)


def total_cells(num_latent_layers, decoder_cells, output_cells):
    """Residual cells on the top-down stream, the depth VDVAE scales the branches' initialisation by."""
    return max(1, num_latent_layers * decoder_cells + output_cells)


def log_normal(z, loc, scale):
    """``log N(z; loc, scale)`` per unit: ``-((z - loc) / scale)^2 / 2 - log scale - log(2 pi) / 2``."""
    return -0.5 * tf.square((z - loc) / scale) - tf.math.log(scale) - 0.5 * math.log(2.0 * math.pi)


def gaussian_kl(q_loc, q_scale, p_loc, p_scale):
    """``KL(N(q_loc, q_scale) || N(p_loc, p_scale))`` per unit:
    ``log(s_p / s_q) + (s_q^2 + (m_q - m_p)^2) / (2 s_p^2) - 1/2``."""
    # log(s_q / s_p) from the two logarithms: the ratio itself underflows to 0 (log 0 = -inf) for far-apart scales.
    log_ratio = 2.0 * (tf.math.log(q_scale) - tf.math.log(p_scale))
    return 0.5 * (tf.exp(log_ratio) + tf.square((q_loc - p_loc) / p_scale) - 1.0 - log_ratio)


class LayerTerms(NamedTuple):
    """One latent layer of a top-down pass: ``p(z_i | z_<i)``, ``q(z_i | z_<i, x)`` (None without ``x``), ``z_i``.

    Every tensor is ``(batch, h, w, c)`` float32.
    """

    prior_loc: Any
    prior_scale: Any
    posterior_loc: Any
    posterior_scale: Any
    z: Any

    def kl(self):
        """``KL(q(z_i | z_<i, x) || p(z_i | z_<i))`` per example, summed over the layer's units: ``(batch,)``."""
        return tf.reduce_sum(gaussian_kl(self.posterior_loc, self.posterior_scale, self.prior_loc, self.prior_scale),
                             axis=[1, 2, 3])

    def log_ratio(self):
        """``log p(z_i | z_<i) - log q(z_i | z_<i, x)`` at the layer's ``z`` per example: ``(batch,)``."""
        return tf.reduce_sum(log_normal(self.z, self.prior_loc, self.prior_scale)
                             - log_normal(self.z, self.posterior_loc, self.posterior_scale), axis=[1, 2, 3])
