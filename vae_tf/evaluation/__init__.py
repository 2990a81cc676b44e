"""How a trained model is scored: one path from images to numbers, used by every caller.

    elbo                   the per-example ELBO, one latent sample                  (elbo.py)
    iwae_log_likelihood    the importance-weighted estimate of log p(x), large k    (iwae.py)
    bits_per_dim           log P of the integer image and bits/dim: exact or the dequantized bound (bits_per_dim.py)
    test_metrics           a run's test numbers: ELBO, IWAE, bits/dim, MSE, KL, active units (run_metrics.py)
    optimal_sigma          a fixed-sigma model scored at sigma* = sqrt(test MSE)    (optimal_sigma.py)

``VAE.elbo``, ``VAE.iwae_log_likelihood`` and ``VAE.bits_per_dim`` call these; so do ``vae_tf.compare``,
``vae-tf evaluate``, ``vae-tf compress`` and the exported model's ELBO (through
:func:`vae_tf.objectives.elbo_terms`).
"""

from vae_tf.evaluation import bits_per_dim
from vae_tf.evaluation.bits_per_dim import (DEQUANTIZED_BOUND, EXACT, NO_LIKELIHOOD_REASON, NoLikelihoodError,
                                            evaluate_bits_per_dim, nats_to_bits_per_dim, scored_inputs)
from vae_tf.evaluation.elbo import elbo
from vae_tf.evaluation.iwae import iwae_log_likelihood, rows_per_chunk
from vae_tf.evaluation.optimal_sigma import bits_per_dim_at_optimal_sigma, with_fixed_sigma
from vae_tf.evaluation.run_metrics import decoder_sigma, kl_and_active_units, reconstruction_mse, test_metrics

__all__ = [
    "DEQUANTIZED_BOUND", "EXACT", "NO_LIKELIHOOD_REASON", "NoLikelihoodError", "bits_per_dim",
    "bits_per_dim_at_optimal_sigma", "decoder_sigma", "elbo", "evaluate_bits_per_dim", "iwae_log_likelihood",
    "kl_and_active_units", "nats_to_bits_per_dim", "reconstruction_mse", "rows_per_chunk", "scored_inputs",
    "test_metrics", "with_fixed_sigma",
]
