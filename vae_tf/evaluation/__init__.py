"""How a trained model is scored: one path from images to numbers, used by every caller.

Its modules::

    estimators     elbo (one latent sample), iwae_log_likelihood (the importance-weighted estimate, large k)
    bits_per_dim   log P of the integer image and bits/dim: exact, or the dequantized bound for a density
    scores         held_out_metrics (ELBO, IWAE, bits/dim, MSE, KL, active units), the optimal-sigma score

``VAE.elbo``, ``VAE.iwae_log_likelihood`` and ``VAE.bits_per_dim`` call these; so do ``vae_tf.compare``,
``vae-tf evaluate``, ``vae-tf compress`` and the exported model's ELBO (through
:func:`vae_tf.objectives.elbo_terms`).
"""

from vae_tf.evaluation.bits_per_dim import (DEQUANTIZED_BOUND, EXACT, NO_LIKELIHOOD_REASON, NoLikelihoodError,
                                            evaluate_bits_per_dim, nats_to_bits_per_dim, scored_inputs)
from vae_tf.evaluation.estimators import (cached_for, elbo, iwae_log_likelihood, model_rows_per_chunk,
                                          rows_per_chunk)
from vae_tf.evaluation.scores import (bits_per_dim_at_optimal_sigma, decoder_sigma, held_out_metrics,
                                      kl_and_active_units, reconstruction_mse, with_fixed_sigma)

__all__ = [
    "DEQUANTIZED_BOUND", "EXACT", "NO_LIKELIHOOD_REASON", "NoLikelihoodError", "bits_per_dim",
    "bits_per_dim_at_optimal_sigma", "cached_for", "decoder_sigma", "elbo", "evaluate_bits_per_dim",
    "held_out_metrics", "iwae_log_likelihood", "kl_and_active_units", "model_rows_per_chunk", "nats_to_bits_per_dim",
    "reconstruction_mse", "rows_per_chunk", "scored_inputs", "with_fixed_sigma",
]
