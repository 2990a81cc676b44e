"""Decoders parameterised by one logit per value: the Bernoulli (binary pixels) and the continuous Bernoulli ([0, 1])."""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import keras

from vae_tf.distributions import FastBernoulli
from vae_tf.layers.distribution_layer import DistributionLayer, event_shape_of
from vae_tf.support import Support

tfd = tfp.distributions


class LogitLayer(DistributionLayer):
    """``D`` logits per example, reshaped to the event: the base of the Bernoulli-type decoders."""

    @staticmethod
    def params_size(event_shape):
        """``D`` logits per example."""
        return int(np.prod(event_shape_of(event_shape)))

    def logits(self, inputs):
        """``(batch, *event_shape)`` float32 logits."""
        return self.reshape_event(self.parameters_from(inputs))


@keras.saving.register_keras_serializable(package="vae_tf")
class IndependentBernoulli(LogitLayer):
    """``p(x | h) = prod_d Bernoulli(x_d; sigmoid(l_d(h)))``, parameterised by logits.

    ``-log p(x) = sum_d softplus(l_d) - x_d l_d``: binary cross-entropy summed
    over pixels. Samples and the mean are float32.
    """

    #: Binary pixels (grey values in [0, 1] train through BCE, but only binary images have a probability).
    support = Support.binary()

    def call(self, inputs):
        return self.independent(FastBernoulli(logits=self.logits(inputs), dtype=tf.float32))


@keras.saving.register_keras_serializable(package="vae_tf")
class IndependentContinuousBernoulli(LogitLayer):
    """``p(x | h) = prod_d CB(x_d; sigmoid(l_d(h)))`` on ``[0, 1]`` (Loaiza-Ganem & Cunningham, 2019).

    ``log CB(x; p) = x log p + (1 - x) log(1 - p) + log C(p)`` with the
    normaliser ``C(p) = 2 artanh(1 - 2p) / (1 - 2p)`` (``C(1/2) = 2``): the
    Bernoulli density made a proper density for grey values.
    """

    #: A density on [0, 1].
    support = Support.unit_interval()

    def call(self, inputs):
        return self.independent(tfd.ContinuousBernoulli(logits=self.logits(inputs)))
