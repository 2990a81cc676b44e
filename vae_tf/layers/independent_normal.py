"""The Gaussian decoder ``N(x; mu, sigma^2 I)``: what "MSE with a sigma" is as a density."""

import tensorflow_probability as tfp
import keras

from vae_tf.layers.gaussian_parameters import GaussianParameterLayer
from vae_tf.support import Support

tfd = tfp.distributions


@keras.saving.register_keras_serializable(package="vae_tf")
class IndependentNormal(GaussianParameterLayer):
    """``p(x | h) = prod_d N(x_d; mu_d(h), sigma_d^2)`` over ``event_shape``.

    ``-log p(x) = sum_d (x_d - mu_d)^2 / (2 sigma_d^2) + sum_d log sigma_d + (D/2) log 2 pi``.

    The arguments (``event_shape``, ``scale`` a float, ``"learned"`` or ``"per_pixel"``, ``min_scale``,
    ``project``) are :class:`~vae_tf.layers.gaussian_parameters.GaussianParameterLayer`'s.
    """

    #: A density on the real line.
    support = Support.real_line()

    def call(self, inputs):
        return self.independent(tfd.Normal(*self.loc_and_scale(inputs)))
