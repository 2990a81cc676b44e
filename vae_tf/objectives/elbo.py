"""The evidence lower bound (Kingma & Welling, 2014), with a KL weight and optional free bits."""

import tensorflow as tf

from losses.reduction import reduce_per_example, sum_over_event_dims
from vae_tf.distributions import flat_event_view
from vae_tf.objectives.free_bits import free_bits_kl, kl_per_unit
from vae_tf.objectives.reconstruction import reconstruction_term
from vae_tf.objectives.terms import ObjectiveTerms


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
        px = model.decode(z, training=training)
        kl = model.kl_divergence(q, z)
        px_flat, target_flat = flat_event_view(px, target)
        nll = sum_over_event_dims(-px_flat.log_prob(target_flat))
        reconstruction = reconstruction_term(model.reconstruction_loss, target, px, target_flat, px_flat,
                                             sample_weight)
        beta = tf.cast(model.beta, kl.dtype)
        if self.free_bits > 0:  # a Python branch: the default step traces no free-bits ops
            kl_term = beta * free_bits_kl(kl_per_unit(q, model.prior(), z), self.free_bits, sample_weight)
        else:
            kl_term = reduce_per_example(beta * kl, sample_weight)
        return ObjectiveTerms(loss=reconstruction + kl_term, kl=kl, reconstruction_nll=nll,
                              decoder_mean=px.mean)
