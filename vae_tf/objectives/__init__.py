"""Training objectives of a latent-variable model, one module each.

An objective maps a batch to :class:`ObjectiveTerms` (the scalar to minimise and what ``fit``
reports); :func:`get_objective` (``registry.py``) builds one from a ``VAE``'s arguments. A new
objective is a new module here with a class of the same shape as :class:`ELBO` or :class:`IWAEBound`,
named in the registry.

    ELBO        -E_q[log p(x|z)] + beta KL(q || p), with optional free bits   (elbo.py, free_bits.py)
    IWAEBound   -log (1/k) sum_i p(x|z_i) p(z_i)^beta / q(z_i|x)^beta         (iwae.py)

:func:`elbo_terms` is the one ELBO (training, evaluation and the exported model use it).
"""

from vae_tf.objectives.elbo import ELBO, ElboTerms, elbo_terms
from vae_tf.objectives.free_bits import free_bits_kl, kl_per_unit
from vae_tf.objectives.iwae import IWAEBound, log_importance_weights
from vae_tf.objectives.reconstruction import check_log_density_loss, reconstruction_loss_for
from vae_tf.objectives.registry import OBJECTIVES, get_objective
from vae_tf.objectives.terms import ObjectiveTerms

__all__ = [
    "ELBO",
    "ElboTerms",
    "IWAEBound",
    "OBJECTIVES",
    "ObjectiveTerms",
    "check_log_density_loss",
    "elbo_terms",
    "free_bits_kl",
    "get_objective",
    "kl_per_unit",
    "log_importance_weights",
    "reconstruction_loss_for",
]
