"""The importance-weighted estimate of ``log p(x)`` (Burda, Grosse & Salakhutdinov, 2015), for large ``k``.

    L_k(x) = log (1/k) sum_{i=1..k} p(x|z_i) p(z_i) / q(z_i|x),    z_i ~ q(z|x)

a lower bound on ``log p(x)`` that tightens as ``k`` grows (``L_1`` is the ELBO); the importance
weights are those the IWAE objective trains on (:func:`vae_tf.objectives.log_importance_weights`).
"""

import math

import numpy as np
import tensorflow as tf
import keras

from vae_tf.argument_checks import check_positive_int
from vae_tf.distributions import reparameterized_sample
from vae_tf.model_cache import cached_for
from vae_tf.time_estimate import RemainingTime
from vae_tf.objectives.iwae import log_importance_weights
from vae_tf.validation import check_images


def _log_weights_logsumexp(model, x, n, seed):
    """``logsumexp_i log w_i`` over ``n`` samples per example of ``x`` (``beta = 1``), from a stateless ``seed``."""
    q = model.encode(x)
    z = reparameterized_sample(q, seed, sample_shape=n)  # (n, batch, latent)
    log_w, _, _ = log_importance_weights(model, q, z, x)
    return tf.reduce_logsumexp(log_w, axis=0)


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
    """``L_k(x)`` per example in nats: the importance-weighted estimate of ``log p(x)``.

    The ``k`` samples are drawn in chunks of at most ``max_rows`` decoder rows (default
    :func:`rows_per_chunk` of the model's likelihood) and combined with a running log-sum-exp, so
    memory does not grow with ``k``; ``batch_size`` examples (default ``max_rows // k``, at least 1)
    go through each compiled call (XLA unless the networks hold convolutions). ``seed`` fixes the draws. ``x`` is checked first
    (:func:`vae_tf.validation.check_images`).
    """
    k = check_positive_int(k, "k")
    if max_rows is not None:
        max_rows = check_positive_int(max_rows, "max_rows")
    if batch_size is not None:
        batch_size = check_positive_int(batch_size, "batch_size")
    x = check_images(x, model.likelihood)
    model.ensure_built(x)
    if max_rows is None:
        max_rows = rows_per_chunk(model.likelihood)
    if batch_size is None:
        batch_size = max(1, max_rows // k)
    chunk = max(1, min(k, max_rows // batch_size))
    fn = cached_for(model, "iwae", lambda: tf.function(
        lambda xb, n, s: _log_weights_logsumexp(model, xb, n, s), jit_compile=model.prefers_xla(),
        reduce_retracing=True))
    rng = np.random.default_rng(seed)
    out = []
    progbar = keras.utils.Progbar(len(x), unit_name="example") if verbose else None
    estimate = RemainingTime(len(x), f"IWAE with k={k} on {len(x)} images") if verbose else None
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
            estimate.done(len(xb))
            progbar.add(len(xb))
    return np.concatenate(out)
