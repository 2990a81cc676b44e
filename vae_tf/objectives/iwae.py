"""The importance-weighted bound (Burda, Grosse & Salakhutdinov, 2015) as a training objective.

With ``z_1..z_k ~ q(z|x)`` independently, the importance weights are
``w_i = p(x|z_i) p(z_i) / q(z_i|x)`` and::

    L_k(x) = log (1/k) sum_{i=1..k} w_i  <=  log p(x),    L_1 = ELBO,   L_k increases with k.

:class:`IWAEBound` trains on ``-L_k``; :func:`vae_tf.evaluation.iwae_log_likelihood` evaluates ``L_k`` for
large ``k`` (e.g. 5000, the usual test log-likelihood) with the same :func:`log_importance_weights`.
"""

import math

import tensorflow as tf

import losses
from losses.reduction import reduce_per_example
from vae_tf.distributions import flat_event_view
from vae_tf.objectives.terms import ObjectiveTerms


def log_importance_weights(model, q, z, target, training=None, reconstruction_loss=None, beta=None):
    """``(log w, log p(x|z), p(x|z))`` for ``k`` latent samples per example.

    ``z`` is ``(k, batch, latent_dim)``; ``log w`` and ``log p(x|z)`` are ``(k, batch)``::

        log w_i = log p(x|z_i) + beta * (log p(z_i) - log q(z_i|x))

    ``beta=None`` is ``beta = 1`` (the IWAE bound itself). With ``reconstruction_loss`` (a
    ``losses`` loss that is ``-log p(x|z)`` up to a constant, see
    :func:`~vae_tf.objectives.reconstruction.check_log_density_loss`) its per-example value
    replaces ``-log p(x|z)`` in ``log w``. The decoder runs once on all ``k * batch`` rows, which
    ``p(x|z)`` is over.
    """
    k, batch = tf.shape(z)[0], tf.shape(z)[1]
    px = model.decode(tf.reshape(z, (k * batch, -1)), training=training)
    target = tf.cast(target, tf.float32)
    repeated = tf.reshape(tf.broadcast_to(target[None], tf.concat([[k], tf.shape(target)], 0)),
                          tf.concat([[-1], tf.shape(target)[1:]], 0))
    px_flat, target_flat = flat_event_view(px, repeated)
    log_px = tf.reshape(px_flat.log_prob(target_flat), (k, batch))
    log_likelihood = log_px
    if reconstruction_loss is not None and not isinstance(reconstruction_loss, losses.NegativeLogLikelihood):
        log_likelihood = -tf.reshape(reconstruction_loss.per_example(target_flat, px_flat), (k, batch))
    log_ratio = model.prior().log_prob(z) - q.log_prob(z)
    if beta is not None:
        log_ratio = tf.cast(beta, log_ratio.dtype) * log_ratio
    return log_likelihood + log_ratio, log_px, px


class IWAEBound:
    """The negative importance-weighted bound ``-L_k`` with ``k = num_samples >= 2``.

    Formula, per example, averaged over the batch with the sample weights::

        loss = -( logsumexp_i [log p(x|z_i) + beta (log p(z_i) - log q(z_i|x))] - log k )

    ``beta`` is the model's KL-weight variable (1: the IWAE bound; a warm-up lowers it).
    ``log p(x|z)`` comes from the loss given to ``compile``, which must be a log-density up to a
    constant. The reported ``kl`` is the analytic ``KL(q(z|x) || p(z))`` and
    ``reconstruction_nll`` the mean over the ``k`` samples of ``-log p(x|z_i)``.
    (``k = 1`` is the ELBO, which :func:`~vae_tf.objectives.get_objective` runs as :class:`ELBO`.)
    """

    name = "iwae"

    def __init__(self, num_samples):
        self.num_samples = int(num_samples)

    def __call__(self, model, x, target, sample_weight=None, training=None):
        q = model.encode(x, training=training)
        z = model.sample_latents(q, x, self.num_samples)
        log_w, log_px, px = log_importance_weights(model, q, z, target, training=training,
                                                   reconstruction_loss=model.reconstruction_loss, beta=model.beta)
        bound = tf.reduce_logsumexp(log_w, axis=0) - math.log(self.num_samples)
        batch = tf.shape(target)[0]

        def decoder_mean():
            mean = px.mean()
            return tf.reshape(mean, tf.concat([[self.num_samples, batch], tf.shape(mean)[1:]], 0))[0]

        return ObjectiveTerms(loss=reduce_per_example(-bound, sample_weight), kl=model.kl_divergence(q, z[0]),
                              reconstruction_nll=-tf.reduce_mean(log_px, axis=0), decoder_mean=decoder_mean)
