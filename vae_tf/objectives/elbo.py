"""The evidence lower bound (Kingma & Welling, 2014): its terms at one latent sample, and the training objective.

:func:`elbo_terms` is the package's one ELBO: training (:class:`ELBO`), the evaluation estimate
(:func:`vae_tf.evaluation.elbo`) and the exported model's ``elbo`` signature all take its terms.
"""

from typing import Any, NamedTuple

import tensorflow as tf

from losses.reduction import reduce_per_example, sum_over_event_dims
from vae_tf.distributions import flat_event_view
from vae_tf.objectives.free_bits import free_bits_kl, kl_per_unit
from vae_tf.objectives.reconstruction import reconstruction_term
from vae_tf.objectives.terms import ObjectiveTerms


class ElboTerms(NamedTuple):
    """The terms of the ELBO at one latent sample per example (see :func:`elbo_terms`)."""

    px: Any            # p(x|z), the decoder distribution
    px_flat: Any       # p(x|z) on the flat (rows, D) event layout (``flat_event_view``)
    x_flat: Any        # x on that layout
    log_px: Any        # log p(x|z) per example, (batch,)
    kl: Any            # KL(q(z|x) || p(z)) per example, (batch,)

    @property
    def elbo(self):
        """``log p(x|z) - KL(q(z|x) || p(z))`` per example (``beta = 1``)."""
        return self.log_px - self.kl


def elbo_terms(model, x, q, z, training=None):
    """:class:`ElboTerms` of ``model`` at latent ``z`` drawn from ``q = q(z|x)``: per example, in nats::

        ELBO(x) = log p(x|z) - KL(q(z|x) || p(z)),     z ~ q(z|x)

    one sample; the KL is analytic when TFP registers it (``model.kl_divergence``). ``log p(x|z)`` is
    evaluated on the flat event layout (the same value, faster under XLA on CPU).
    """
    px = model.decode(z, training=training)
    px_flat, x_flat = flat_event_view(px, tf.cast(x, tf.float32))
    log_px = sum_over_event_dims(px_flat.log_prob(x_flat))
    return ElboTerms(px, px_flat, x_flat, log_px, model.kl_divergence(q, z))


class ELBO:
    """The negative ELBO with one reparameterised sample ``z ~ q(z|x)`` per example.

    Formula, averaged over the batch with the sample weights::

        loss = reconstruction(x, p(x|z)) + beta * KL(q(z|x) || p(z))

    with ``beta`` the model's KL-weight variable (1 gives the ELBO) and the reconstruction term
    the loss given to ``compile``. With ``free_bits = lambda > 0`` the KL term becomes
    ``sum_j max(lambda, mean_batch KL_j)`` over latent units ``j`` (:mod:`free_bits`); the
    reported ``kl`` stays the true KL.
    """

    name = "elbo"
    num_samples = 1

    def __init__(self, free_bits=0.0):
        self.free_bits = float(free_bits)

    def __call__(self, model, x, target, sample_weight=None, training=None):
        q = model.encode(x, training=training)
        z = model.sample_latent(q, x)
        terms = elbo_terms(model, target, q, z, training=training)
        reconstruction = reconstruction_term(model.reconstruction_loss, target, terms.px, terms.x_flat,
                                             terms.px_flat, sample_weight)
        beta = tf.cast(model.beta, terms.kl.dtype)
        if self.free_bits > 0:  # a Python branch: the default step traces no free-bits ops
            kl_term = beta * free_bits_kl(kl_per_unit(q, model.prior(), z), self.free_bits, sample_weight)
        else:
            kl_term = reduce_per_example(beta * terms.kl, sample_weight)
        return ObjectiveTerms(loss=reconstruction + kl_term, kl=terms.kl, reconstruction_nll=-terms.log_px,
                              decoder_mean=terms.px.mean)
