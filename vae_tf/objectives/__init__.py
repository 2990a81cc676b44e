"""Training objectives of a latent-variable model, one module each.

An objective maps a batch to :class:`ObjectiveTerms` (the scalar to minimise and what ``fit``
reports); :func:`get_objective` builds one from a ``VAE``'s arguments. A new objective is a new
module here with a class of the same shape as :class:`ELBO` or :class:`IWAEBound`.

    ELBO        -E_q[log p(x|z)] + beta KL(q || p), with optional free bits   (elbo.py, free_bits.py)
    IWAEBound   -log (1/k) sum_i p(x|z_i) p(z_i)^beta / q(z_i|x)^beta         (iwae.py)
"""

from vae_tf.objectives.elbo import ELBO
from vae_tf.objectives.free_bits import free_bits_kl, kl_per_unit
from vae_tf.objectives.iwae import IWAEBound, iwae_log_likelihood, log_importance_weights
from vae_tf.objectives.reconstruction import check_log_density_loss, reconstruction_loss_for
from vae_tf.objectives.terms import OBJECTIVES, ObjectiveTerms, get_objective

__all__ = [
    "ELBO",
    "IWAEBound",
    "OBJECTIVES",
    "ObjectiveTerms",
    "check_log_density_loss",
    "free_bits_kl",
    "get_objective",
    "iwae_log_likelihood",
    "kl_per_unit",
    "log_importance_weights",
    "reconstruction_loss_for",
]
