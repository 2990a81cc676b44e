"""A mixture of discretized logistics per value (PixelCNN++): exact probabilities of L-level images."""

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from vae_tf import distributions
from vae_tf.errors import InvalidInputError, check_integer
from vae_tf.distributions.coupled_logistic_mixture import NUM_CHANNELS
from vae_tf.layers.base import DistributionLayer, bounded_scale, event_shape_of
from vae_tf.support import LEVELS

tfd = tfp.distributions


def couples_channels(event_shape, couple_channels=True):
    """True when ``event_shape`` is an RGB image ``(H, W, 3)`` and ``couple_channels`` asks for the coupling."""
    shape = event_shape_of(event_shape)
    return bool(couple_channels) and len(shape) == 3 and shape[-1] == NUM_CHANNELS


@keras.saving.register_keras_serializable(package="vae_tf")
class IndependentDiscretizedLogisticMixture(DistributionLayer):
    r"""``P(k | h) = prod_d sum_i pi_di(h) DiscretizedLogistic(k_d; mu_di(h), s_di(h), L)`` (PixelCNN++).

    Every pixel gets a mixture of ``K = num_components`` logistics integrated
    over the bins of ``k / (L - 1)``, the edge bins taking the tails
    (Salimans et al., 2017; no autoregression across pixels)::

        log P(x_d) = logsumexp_i [log_softmax(l_d)_i + log(sigmoid(b_di) - sigmoid(a_di))]
        a_di = (x_d - h_L/2 - mu_di) / s_di,   b_di = (x_d + h_L/2 - mu_di) / s_di

    .. math::

        P(x_d \mid h) = \sum_{i=1}^{K} \pi_{di}
        \big(\operatorname{sigmoid}(b_{di}) - \operatorname{sigmoid}(a_{di})\big),
        \qquad a_{di}, b_{di} = \frac{x_d \mp h_L/2 - \mu_{di}}{s_{di}},
        \qquad \pi_d = \operatorname{softmax}(l_d)

    computed without differences of probabilities (see
    ``vae_tf.distributions.discretized_logistic_log_mass``).

    Grey (and any event that is not ``(H, W, 3)``): one mixture per value, ``3 K``
    parameters per value, contiguous: ``K`` mixture logits, ``K`` locations, ``K`` raw
    log-scales; ``s = bounded_scale(raw, min_scale)``.

    Colour ``(H, W, 3)`` (with ``couple_channels``): PixelCNN++'s eq. 3, one mixture per
    *pixel* whose ``K`` weights the three channels share, G's location shifted by R and
    B's by R and G (:class:`vae_tf.distributions.ChannelCoupledLogisticMixture`, wrapped
    in ``tfd.Independent`` over the ``H x W`` pixels)::

        P(r, g, b) = sum_i pi_i P(r | mu_Ri, s_Ri) P(g | mu_Gi + alpha_i r, s_Gi) P(b | mu_Bi + beta_i r + gamma_i g, s_Bi)

    .. math::

        P(r, g, b) = \sum_{i=1}^{K} \pi_i\, P(r \mid \mu_{Ri}, s_{Ri})\, P(g \mid \mu_{Gi} + \alpha_i r, s_{Gi})\,
        P(b \mid \mu_{Bi} + \beta_i r + \gamma_i g, s_{Bi})

    ``10 K`` parameters per pixel, contiguous: ``K`` logits, ``3 K`` locations (R's ``K``,
    then G's, then B's), ``3 K`` raw log-scales (same order), ``3 K`` raw coefficients
    (``alpha``'s ``K``, ``beta``'s, ``gamma``'s), squashed by ``tanh`` as in PixelCNN++.
    A conv decoder with ``project=False`` outputs ``(H, W, 10 K)``:
    ``conv_decoder(event_shape, params_per_pixel=layer.params_per_pixel())``.

    Args:
        event_shape: shape of one example.
        num_components: ``K``.
        num_levels: ``L``.
        min_scale: lower bound of every component's scale ``s``.
        couple_channels: couple R, G, B on ``(H, W, 3)`` events (False: an independent
            mixture per channel, as on grey images).
        project: own the Dense projection from features, or take ready parameters.
    """

    #: The ``num_levels`` levels ``k / (L - 1)``: exact probabilities of integer images.
    support_kind = LEVELS

    def __init__(self, event_shape, num_components=5, num_levels=256, min_scale=1e-3, couple_channels=True, project=True,
                 **kwargs):
        self.num_components = check_integer(num_components, "IndependentDiscretizedLogisticMixture: num_components",
                                            expected="an integer >= 1")
        if not min_scale > 0:
            raise InvalidInputError(f"IndependentDiscretizedLogisticMixture: min_scale must be > 0, got {min_scale!r}")
        self.min_scale = float(min_scale)
        self.couple_channels = bool(couple_channels)
        self.coupled = couples_channels(event_shape, self.couple_channels)
        super().__init__(event_shape, project=project,
                         num_params=self.params_size(event_shape, self.num_components, self.couple_channels),
                         num_levels=distributions.check_num_levels(num_levels), **kwargs)

    @staticmethod
    def params_size(event_shape, num_components=5, couple_channels=True):
        """``3 K D`` (a mixture per value), or ``10 K H W`` on a coupled ``(H, W, 3)`` image (a mixture per pixel)."""
        shape = event_shape_of(event_shape)
        if couples_channels(shape, couple_channels):
            return 10 * int(num_components) * int(np.prod(shape[:-1]))
        return 3 * int(num_components) * int(np.prod(shape))

    def params_per_pixel(self):
        """Parameters of one pixel ``(..., C)`` of an image event: what a conv decoder outputs per position."""
        return self.num_params() // int(np.prod(self.event_shape[:-1]))

    def call(self, inputs):
        params = self.parameters_from(inputs)
        k = self.num_components
        if not self.coupled:
            params = tf.reshape(params, tf.concat([tf.shape(params)[:1], self.event_shape, [3 * k]], 0))
            logits, loc, raw_scale = tf.split(params, 3, axis=-1)
            scale = bounded_scale(raw_scale, self.min_scale)
            return self.independent(distributions.DiscretizedLogisticMixture(logits, loc, scale, self.num_levels))
        pixels = tf.concat([tf.shape(params)[:1], self.event_shape[:-1]], 0)
        params = tf.reshape(params, tf.concat([pixels, [10 * k]], 0))
        logits, loc, raw_scale, raw_coefficients = tf.split(params, [k, 3 * k, 3 * k, 3 * k], axis=-1)
        channel_rows = tf.concat([pixels, [3, k]], 0)
        loc, raw_scale, raw_coefficients = (tf.reshape(t, channel_rows) for t in (loc, raw_scale, raw_coefficients))
        pixel = distributions.ChannelCoupledLogisticMixture(
            logits, loc, bounded_scale(raw_scale, self.min_scale), tf.tanh(raw_coefficients), self.num_levels)
        return tfd.Independent(pixel, reinterpreted_batch_ndims=len(self.event_shape) - 1)

    def get_config(self):
        return {
            **super().get_config(),
            "num_components": self.num_components,
            "min_scale": self.min_scale,
            "couple_channels": self.couple_channels,
        }


# Files saved before the layer was renamed name it "vae_tf>DiscretizedLogisticMixture".
keras.saving.get_custom_objects()["vae_tf>DiscretizedLogisticMixture"] = IndependentDiscretizedLogisticMixture
