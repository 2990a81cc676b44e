"""TFP distributions and distribution-level building blocks, one module each.

Over the grey levels of an image (exact probabilities of integer images); an image of ``L`` grey
levels ``k = 0 .. L-1`` is given as ``x = k / (L - 1)``::

    DiscretizedNormal(loc, scale, num_bins)                   a Gaussian integrated over each bin
    DiscretizedLogisticMixture(logits, loc, scale, num_bins)  K discretized logistics (PixelCNN++)
    LevelCategorical(logits, num_bins)                        a softmax over the L levels
    ChannelCoupledLogisticMixture(logits, loc, scale, coefficients, num_bins)
                                                              one RGB pixel: K discretized logistics
                                                              shared by R, G, B, G's and B's means
                                                              shifted by R (and G) (PixelCNN++)

The first three have a scalar event, ``num_bins`` and ``bin_log_probs() -> (*batch_shape, L)``; the
coupled mixture's event is one pixel's 3 channels and it has ``channel_bin_log_probs(x) -> (*batch_shape, 3, L)``
(each channel given the ones before it). They share
``discretized_distribution`` (the base), ``bin_grid`` (the levels and bins) and ``special_functions``.

``FastBernoulli``, the Bernoulli of ``layers.IndependentBernoulli`` (TFP's, with a log-density of one
``exp`` and one ``log``, and ``bin_log_probs`` over levels 0 and 1). The latent side: the standard normal
prior and its KL (``gaussian``). Speed: ``reparameterized_sample`` (Philox named explicitly) and
``flat_event_view`` (the ``(rows, D)`` layout), each the same values as the plain TFP calls.
"""

from vae_tf.distributions.bin_grid import check_num_bins, levels_of
from vae_tf.distributions.coupled_logistic_mixture import ChannelCoupledLogisticMixture
from vae_tf.distributions.discretized_logistic_mixture import DiscretizedLogisticMixture, discretized_logistic_log_mass
from vae_tf.distributions.discretized_normal import DiscretizedNormal, discretized_normal_log_mass
from vae_tf.distributions.fast_bernoulli import FastBernoulli
from vae_tf.distributions.flat_event_view import flat_event_view
from vae_tf.distributions.gaussian import diagonal_gaussian_kl, standard_normal_prior
from vae_tf.distributions.level_categorical import LevelCategorical
from vae_tf.distributions.reparameterized_sample import reparameterized_sample

__all__ = [
    "ChannelCoupledLogisticMixture",
    "DiscretizedLogisticMixture",
    "DiscretizedNormal",
    "FastBernoulli",
    "LevelCategorical",
    "check_num_bins",
    "diagonal_gaussian_kl",
    "discretized_logistic_log_mass",
    "discretized_normal_log_mass",
    "flat_event_view",
    "levels_of",
    "reparameterized_sample",
    "standard_normal_prior",
]
