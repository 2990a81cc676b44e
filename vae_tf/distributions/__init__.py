"""TFP distributions over the grey levels of an image: exact probabilities of integer images.

An image of ``L`` grey levels ``k = 0 .. L-1`` is given as ``x = k / (L - 1)``::

    DiscretizedNormal(loc, scale, num_bins)                   a Gaussian integrated over each bin
    DiscretizedLogisticMixture(logits, loc, scale, num_bins)  K discretized logistics (PixelCNN++)
    LevelCategorical(logits, num_bins)                        a softmax over the L levels

Each has a scalar event, ``num_bins`` and ``bin_log_probs() -> (*batch_shape, L)``.
"""

from vae_tf.distributions.discretized import (
    DiscretizedLogisticMixture,
    DiscretizedNormal,
    LevelCategorical,
    levels_of,
)

__all__ = ["DiscretizedLogisticMixture", "DiscretizedNormal", "LevelCategorical", "levels_of"]
