"""The Gaussian integrated over each grey level: exact probabilities of L-level images from a mean and a sigma."""

import keras

from vae_tf import distributions
from vae_tf.layers.gaussian_parameters import GaussianParameterLayer
from vae_tf.support import Support


@keras.saving.register_keras_serializable(package="vae_tf")
class IndependentDiscretizedNormal(GaussianParameterLayer):
    """``P(k | h) = prod_d DiscretizedNormal(k_d; mu_d(h), sigma_d, L)``: the Gaussian integrated over each bin.

    With ``h_L = 1 / (L - 1)``, pixel value ``x_d = k_d h_L`` and ``Phi`` the
    standard normal CDF::

        P(x_d) = Phi((x_d + h_L/2 - mu_d) / sigma_d) - Phi((x_d - h_L/2 - mu_d) / sigma_d)

    the two edge bins taking the tails to -inf and +inf. This is what "MSE
    with a sigma" (:class:`IndependentNormal`) becomes as a probability of
    ``L``-level pixels: ``-log P(x) >= 0`` always, and as ``sigma >> h_L``,
    ``log P(x) -> log N(x; mu, sigma^2 I) + D log h_L``.

    The scale options, ``min_scale`` and the parameter layout are those of
    :class:`IndependentNormal` (the same machinery). ``mean()`` is the mean of
    the discretized variable (see ``DiscretizedNormal``), which
    ``losses.ScaledMSE`` and Keras' ``"mse"`` train through.

    Args:
        event_shape: shape of one example, e.g. ``(28, 28, 1)``.
        scale: a float (fixed sigma), ``"learned"`` or ``"per_pixel"``.
        min_scale: lower bound of a learned or predicted sigma.
        num_bins: ``L``, the number of grey levels (256 for 8-bit images).
        project: own the Dense projection from features, or take ready parameters.
    """

    def __init__(self, event_shape, scale=1.0, min_scale=1e-3, num_bins=256, project=True, **kwargs):
        self.num_bins = distributions.check_num_bins(num_bins)
        super().__init__(event_shape, scale=scale, min_scale=min_scale, project=project, **kwargs)

    def call(self, inputs):
        loc, scale = self.loc_and_scale(inputs)
        return self.independent(distributions.DiscretizedNormal(loc, scale, self.num_bins))

    def get_config(self):
        return {**super().get_config(), "num_bins": self.num_bins}

    @property
    def support(self):
        """The ``num_bins`` levels ``k / (L - 1)``: exact probabilities of integer images."""
        return Support.levels(self.num_bins)
