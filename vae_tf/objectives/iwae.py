"""The importance-weighted bound (Burda, Grosse & Salakhutdinov, 2015): a training objective and an estimator.

With ``z_1..z_k ~ q(z|x)`` independently, the importance weights are
``w_i = p(x|z_i) p(z_i) / q(z_i|x)`` and::

    L_k(x) = log (1/k) sum_{i=1..k} w_i  <=  log p(x),    L_1 = ELBO,   L_k increases with k.

:class:`IWAEBound` trains on ``-L_k``; :func:`iwae_log_likelihood` evaluates ``L_k`` for large ``k``
(e.g. 5000, the usual test log-likelihood) in chunks with a running log-sum-exp.
"""

import math
import weakref

import numpy as np
import tensorflow as tf
import keras

import losses
from losses.reduction import reduce_per_example
from vae_tf.distributions import flat_event_view, reparameterized_sample
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


def _log_weights_logsumexp(model, x, n, seed):
    """``logsumexp_i log w_i`` over ``n`` samples per example of ``x`` (``beta = 1``), from a stateless ``seed``."""
    q = model.encode(x)
    z = reparameterized_sample(q, seed, sample_shape=n)  # (n, batch, latent)
    log_w, _, _ = log_importance_weights(model, q, z, x)
    return tf.reduce_logsumexp(log_w, axis=0)


_COMPILED = weakref.WeakKeyDictionary()

#: Decoder rows one chunk may hold at most, and floats of distribution parameters (2^25 float32 = 128 MiB).
MAX_ROWS = 32768
PARAMETER_BUDGET = 2**25


def rows_per_chunk(likelihood, max_rows=MAX_ROWS):
    """Decoder rows per IWAE chunk: at most ``max_rows``, and few enough that one chunk's distribution
    parameters stay within :data:`PARAMETER_BUDGET` floats (a categorical over 256 levels holds
    784 x 256 logits per MNIST row: 32768 rows would be 26 GB)."""
    per_row = likelihood.values_per_row() if hasattr(likelihood, "values_per_row") else 1
    return int(max(1, min(max_rows, PARAMETER_BUDGET // max(1, per_row))))


def iwae_log_likelihood(model, x, k=5000, batch_size=None, max_rows=None, seed=0, verbose=0):
    """``L_k(x)`` per example in nats: the importance-weighted estimate of ``log p(x)`` (``x`` checked by the caller).

    The ``k`` samples are drawn in chunks of at most ``max_rows`` decoder rows (default
    :func:`rows_per_chunk` of the model's likelihood) and combined with a running log-sum-exp, so
    memory does not grow with ``k``; ``batch_size`` examples (default ``max_rows // k``, at least 1)
    go through each compiled call. ``seed`` fixes the draws.
    """
    if max_rows is None:
        max_rows = rows_per_chunk(model.likelihood)
    if batch_size is None:
        batch_size = max(1, max_rows // k)
    chunk = max(1, min(k, max_rows // batch_size))
    fn = _COMPILED.get(model)
    if fn is None:
        fn = tf.function(lambda xb, n, s: _log_weights_logsumexp(model, xb, n, s), jit_compile=True,
                         reduce_retracing=True)
        _COMPILED[model] = fn
    rng = np.random.default_rng(seed)
    out = []
    progbar = keras.utils.Progbar(len(x), unit_name="example") if verbose else None
    for start in range(0, len(x), batch_size):
        xb = tf.constant(x[start:start + batch_size])
        total = None
        for done in range(0, k, chunk):
            n = min(chunk, k - done)
            seed_t = tf.constant(rng.integers(0, 2**31 - 1, size=2), tf.int32)
            lse = fn(xb, tf.constant(n), seed_t)
            total = lse if total is None else tf.experimental.numpy.logaddexp(total, lse)
        out.append((total - math.log(k)).numpy())
        if progbar is not None:
            progbar.add(len(xb))
    return np.concatenate(out)
