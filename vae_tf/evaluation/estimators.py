"""The model's own log-likelihood bounds on held-out images: the ELBO (one sample) and the IWAE estimate (large k).

    ELBO(x) = log p(x|z) - KL(q(z|x) || p(z)),                        z ~ q(z|x)
    L_k(x)  = log (1/k) sum_{i=1..k} p(x|z_i) p(z_i) / q(z_i|x),        z_i ~ q(z|x)

``L_k`` is a lower bound on ``log p(x)`` that tightens as ``k`` grows (Burda, Grosse & Salakhutdinov, 2015;
``L_1`` is the ELBO); its importance weights are those the IWAE objective trains on
(:func:`vae_tf.objectives.log_importance_weights`). A compiled pass is built once per model and kept with it
(:func:`cached_for`): a ``tf.function`` retraces for every new Python function object.
"""

import math

import numpy as np
import tensorflow as tf

from vae_tf.errors import check_positive_int
from vae_tf.long_jobs import RemainingTime
from vae_tf.validation import check_images


def cached_for(model, key, build):
    """``model``'s value for ``key``, made by ``build()`` on the first call and kept with the model."""
    cache = model.__dict__.setdefault("_vae_tf_cache", {})
    if key not in cache:
        cache[key] = build()
    return cache[key]


def elbo(model, x, batch_size=1000):
    """Per-example ELBO in nats, one latent sample: ``log p(x|z) - KL(q(z|x) || p(z))``, ``z ~ q(z|x)``.

    ``beta = 1`` whatever the model trained with; the draws come from the model's seed stream
    (``model.per_example_elbo``, any model family). ``x`` is checked first (:func:`vae_tf.validation.check_images`).
    """
    batch_size = check_positive_int(batch_size, "batch_size")
    x = check_images(x, model.likelihood)
    model.ensure_built(x)
    fn = cached_for(model, "elbo", lambda: tf.function(model.per_example_elbo, reduce_retracing=True))
    return np.concatenate([fn(tf.constant(x[i:i + batch_size])).numpy() for i in range(0, len(x), batch_size)])


def _log_weights_logsumexp(model, x, n, seed):
    """``logsumexp_i log w_i`` over ``n`` draws of all latents per example of ``x`` (``beta = 1``), from a stateless
    ``seed`` (``model.log_importance_weights``, any model family)."""
    return tf.reduce_logsumexp(model.log_importance_weights(x, n, seed), axis=0)


#: Decoder rows one chunk may hold at most, and floats of distribution parameters (2^25 float32 = 128 MiB).
MAX_ROWS = 32768
PARAMETER_BUDGET = 2**25
#: Bytes the largest tensor of one chunk may hold (128 MiB, the parameter budget's float32 bytes).
TENSOR_BYTES_BUDGET = 4 * PARAMETER_BUDGET


def rows_per_chunk(likelihood, max_rows=MAX_ROWS):
    """Decoder rows per IWAE chunk: at most ``max_rows``, and few enough that one chunk's distribution
    parameters stay within ``PARAMETER_BUDGET`` floats (a categorical over 256 levels holds
    784 x 256 logits per MNIST row: 32768 rows would be 26 GB). ``likelihood`` is a likelihood layer or a
    model (whose ``values_per_row`` may count more than its likelihood's parameters: a hierarchy's features)."""
    per_row = likelihood.values_per_row() if hasattr(likelihood, "values_per_row") else 1
    return int(max(1, min(max_rows, PARAMETER_BUDGET // max(1, per_row))))


def largest_bytes_per_row(model, event_shape):
    """``max_t bytes(t) / rows(t)`` over the tensors ``t`` of one ``log w`` pass (encoder, decoder, likelihood)
    whose size grows with the number of rows: the graph of ``_log_weights_logsumexp`` traced for any
    batch and sample count, each such tensor's known dimensions times its dtype's size.

    A conv or resnet decoder's activations can be ten times its distribution parameters (a CIFAR-10 resnet's
    upsampled 32 x 32 x 64 features against 3 x 32 x 32 means); traced once per model and kept with it."""
    def trace():
        model.ensure_built(np.zeros((1, *event_shape), np.float32))
        fn = tf.function(lambda xb, n, s: _log_weights_logsumexp(model, xb, n, s))
        graph = fn.get_concrete_function(tf.TensorSpec((None, *event_shape), tf.float32), tf.TensorSpec((), tf.int32),
                                         tf.TensorSpec((2,), tf.int32)).graph
        largest = 1
        for op in graph.get_operations():
            for t in op.outputs:
                dims = t.shape.as_list() if t.shape.rank is not None else None
                if dims and None in dims:  # a per-row tensor: its unknown dimensions count rows (samples x batch)
                    largest = max(largest, math.prod(d for d in dims if d is not None) * max(1, t.dtype.size))
        return largest

    return cached_for(model, ("largest_bytes_per_row", tuple(event_shape)), trace)


def model_rows_per_chunk(model, event_shape, max_rows=MAX_ROWS):
    """Rows per chunk for ``model``: :func:`rows_per_chunk` of the model (its ``values_per_row``), and few enough that the largest
    tensor of a chunk (``largest_bytes_per_row``) stays within ``TENSOR_BYTES_BUDGET``. TensorFlow's CPU
    allocator keeps a freed tensor's memory for reuse, so one oversized chunk raises the process's memory
    for good."""
    by_bytes = TENSOR_BYTES_BUDGET // largest_bytes_per_row(model, event_shape)
    return int(max(1, min(rows_per_chunk(model, max_rows), by_bytes)))


def iwae_log_likelihood(model, x, k=5000, batch_size=None, max_rows=None, seed=0, verbose=0):
    """``L_k(x)`` per example in nats: the importance-weighted estimate of ``log p(x)``.

    The ``k`` samples are drawn in chunks of at most ``max_rows`` decoder rows (default
    :func:`model_rows_per_chunk`) and combined with a running log-sum-exp, so
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
        max_rows = model_rows_per_chunk(model, x.shape[1:])
    if batch_size is None:
        batch_size = max(1, max_rows // k)
    chunk = max(1, min(k, max_rows // batch_size))
    fn = cached_for(model, "iwae", lambda: tf.function(
        lambda xb, n, s: _log_weights_logsumexp(model, xb, n, s), jit_compile=model.prefers_xla(),
        reduce_retracing=True))
    rng = np.random.default_rng(seed)
    out = []
    progress = RemainingTime(len(x), f"IWAE with k={k} on {len(x)} images", bar=True) if verbose else None
    for start in range(0, len(x), batch_size):
        xb = tf.constant(x[start:start + batch_size])
        total = None
        for done in range(0, k, chunk):
            n = min(chunk, k - done)
            seed_t = tf.constant(rng.integers(0, 2**31 - 1, size=2), tf.int32)
            lse = fn(xb, tf.constant(n), seed_t)
            total = lse if total is None else tf.experimental.numpy.logaddexp(total, lse)
        out.append((total - math.log(k)).numpy())
        if progress is not None:
            progress.done(len(xb))
    return np.concatenate(out)
