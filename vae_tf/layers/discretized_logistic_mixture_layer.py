"""A mixture of discretized logistics per value (PixelCNN++): exact probabilities of L-level images."""

import numpy as np
import tensorflow as tf
import keras

from vae_tf import distributions
from vae_tf.argument_checks import check_integer
from vae_tf.errors import InvalidInputError
from vae_tf.layers.bounded_scale import bounded_scale
from vae_tf.layers.distribution_layer import DistributionLayer, event_shape_of
from vae_tf.support import Support


@keras.saving.register_keras_serializable(package="vae_tf")
class IndependentDiscretizedLogisticMixture(DistributionLayer):
    """``P(k | h) = prod_d sum_i pi_di(h) DiscretizedLogistic(k_d; mu_di(h), s_di(h), L)`` (PixelCNN++).

    Every pixel gets a mixture of ``K = num_components`` logistics integrated
    over the bins of ``k / (L - 1)``, the edge bins taking the tails
    (Salimans et al., 2017; one channel per pixel, no autoregression)::

        log P(x_d) = logsumexp_i [log_softmax(l_d)_i + log(sigmoid(b_di) - sigmoid(a_di))]
        a_di = (x_d - h_L/2 - mu_di) / s_di,   b_di = (x_d + h_L/2 - mu_di) / s_di

    computed without differences of probabilities (see
    ``vae_tf.distributions.discretized_logistic_log_mass``).

    Parameters per pixel, ``3 K``, contiguous: ``K`` mixture logits, ``K``
    locations, ``K`` raw log-scales; ``s = bounded_scale(raw, min_scale)``.

    Args:
        event_shape: shape of one example.
        num_components: ``K``.
        num_bins: ``L``.
        min_scale: lower bound of every component's scale ``s``.
        project: own the Dense projection from features, or take ready parameters.
    """

    def __init__(self, event_shape, num_components=5, num_bins=256, min_scale=1e-3, project=True, **kwargs):
        self.num_components = check_integer(num_components, "IndependentDiscretizedLogisticMixture: num_components",
                                            expected="an integer >= 1")
        if not min_scale > 0:
            raise InvalidInputError(f"IndependentDiscretizedLogisticMixture: min_scale must be > 0, got {min_scale!r}")
        self.num_bins = distributions.check_num_bins(num_bins)
        self.min_scale = float(min_scale)
        super().__init__(
            event_shape, project=project, num_params=self.params_size(event_shape, self.num_components), **kwargs
        )

    @staticmethod
    def params_size(event_shape, num_components=5):
        """``3 K D``: logits, locations and raw log-scales of ``K`` components for each of ``D`` values."""
        return 3 * int(num_components) * int(np.prod(event_shape_of(event_shape)))

    def call(self, inputs):
        params = self.parameters_from(inputs)
        params = tf.reshape(params, tf.concat([tf.shape(params)[:1], self.event_shape, [3 * self.num_components]], 0))
        logits, loc, raw_scale = tf.split(params, 3, axis=-1)
        scale = bounded_scale(raw_scale, self.min_scale)
        return self.independent(distributions.DiscretizedLogisticMixture(logits, loc, scale, self.num_bins))

    def get_config(self):
        return {
            **super().get_config(),
            "num_components": self.num_components,
            "num_bins": self.num_bins,
            "min_scale": self.min_scale,
        }

    @property
    def support(self):
        """The ``num_bins`` levels ``k / (L - 1)``: exact probabilities of integer images."""
        return Support.levels(self.num_bins)


# Files saved before the layer was renamed name it "vae_tf>DiscretizedLogisticMixture".
keras.saving.get_custom_objects()["vae_tf>DiscretizedLogisticMixture"] = IndependentDiscretizedLogisticMixture
