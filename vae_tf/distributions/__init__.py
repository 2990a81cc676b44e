"""TFP distributions over the grey levels of an image, and the latent side's Gaussians.

Over the grey levels (exact probabilities of integer images); an image of ``L`` grey levels
``k = 0 .. L-1`` is given as ``x = k / (L - 1)`` (the grid and the shared base: ``discretized``)::

    DiscretizedNormal(loc, scale, num_levels)                   a Gaussian integrated over each bin
    DiscretizedLogisticMixture(logits, loc, scale, num_levels)  K discretized logistics (PixelCNN++)
    LevelCategorical(logits, num_levels)                        a softmax over the L levels
    FactoredLevelCategorical(features, level_kernel, level_bias, num_levels)
                                                                the same with logits f W + b, and a log_prob
                                                                that never materialises them (fast on CPU)
    ChannelCoupledLogisticMixture(logits, loc, scale, coefficients, num_levels)
                                                                one RGB pixel: K discretized logistics shared by
                                                                R, G, B, G's and B's means shifted by R (and G)

The first four have a scalar event, ``num_levels`` and ``bin_log_probs() -> (*batch_shape, L)``; the coupled
mixture's event is one pixel's 3 channels and it has ``channel_bin_log_probs(x) -> (*batch_shape, 3, L)`` (each
channel given the ones before it). ``FastBernoulli`` is the Bernoulli of ``layers.IndependentBernoulli`` (TFP's,
with a log-density of one ``exp`` and one ``log``, and ``bin_log_probs`` over levels 0 and 1).

The latent side (``gaussian``): the standard normal prior, its closed-form KL, and ``reparameterized_sample``
(Philox named explicitly: the same law as ``q.sample``, faster).
"""

from vae_tf.distributions.categorical import FactoredLevelCategorical, FastBernoulli, LevelCategorical
from vae_tf.distributions.coupled_logistic_mixture import ChannelCoupledLogisticMixture
from vae_tf.data.levels import check_num_levels
from vae_tf.distributions.discretized import levels_of
from vae_tf.distributions.discretized_normal import DiscretizedNormal, discretized_normal_log_mass
from vae_tf.distributions.gaussian import diagonal_gaussian_kl, reparameterized_sample, standard_normal_prior
from vae_tf.distributions.logistic_mixture import DiscretizedLogisticMixture, discretized_logistic_log_mass

__all__ = [
    "ChannelCoupledLogisticMixture", "DiscretizedLogisticMixture", "DiscretizedNormal", "FactoredLevelCategorical",
    "FastBernoulli", "LevelCategorical", "check_num_levels", "diagonal_gaussian_kl", "discretized_logistic_log_mass",
    "discretized_normal_log_mass", "levels_of", "reparameterized_sample", "standard_normal_prior",
]
