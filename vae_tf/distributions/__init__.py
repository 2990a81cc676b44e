"""TFP distributions and distribution-level building blocks.

Over the grey levels of an image (exact probabilities of integer images); an image of ``L`` grey
levels ``k = 0 .. L-1`` is given as ``x = k / (L - 1)``::

    DiscretizedNormal(loc, scale, num_bins)                   a Gaussian integrated over each bin
    DiscretizedLogisticMixture(logits, loc, scale, num_bins)  K discretized logistics (PixelCNN++)
    LevelCategorical(logits, num_bins)                        a softmax over the L levels

Each has a scalar event, ``num_bins`` and ``bin_log_probs() -> (*batch_shape, L)``.

The latent side: the standard normal prior and its KL; and the sampling and log-density fast paths
the objectives use (``reparameterized_sample``, ``flat_event_view``); ``FastBernoulli``, the
Bernoulli of ``layers.IndependentBernoulli`` (TFP's, with a log-density of one ``exp`` and one ``log``).
"""

from vae_tf.distributions.discretized import (
    DiscretizedLogisticMixture,
    DiscretizedNormal,
    LevelCategorical,
    levels_of,
)
from vae_tf.distributions.fast_paths import FastBernoulli, flat_event_view, reparameterized_sample
from vae_tf.distributions.gaussian import diagonal_gaussian_kl, standard_normal_prior

__all__ = [
    "DiscretizedLogisticMixture",
    "DiscretizedNormal",
    "FastBernoulli",
    "LevelCategorical",
    "diagonal_gaussian_kl",
    "flat_event_view",
    "levels_of",
    "reparameterized_sample",
    "standard_normal_prior",
]
