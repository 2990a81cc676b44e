"""The ELBO of a trained model per test image, in nats: one latent sample, ``beta = 1``."""

import numpy as np
import tensorflow as tf

from vae_tf.argument_checks import check_positive_int
from vae_tf.model_cache import cached_for
from vae_tf.objectives.elbo import elbo_terms
from vae_tf.validation import check_images


def _elbo_batch(model, x):
    q = model.encode(x, training=False)
    return elbo_terms(model, x, q, model.sample_latent(q, x), training=False).elbo


def elbo(model, x, batch_size=1000):
    """Per-example ELBO in nats, one latent sample: ``log p(x|z) - KL(q(z|x) || p(z))``, ``z ~ q(z|x)``.

    ``beta = 1`` whatever the model trained with; the draws come from the model's seed stream
    (``model.sample_latent``). ``x`` is checked first (:func:`vae_tf.validation.check_images`).
    """
    batch_size = check_positive_int(batch_size, "batch_size")
    x = check_images(x, model.likelihood)
    model.ensure_built(x)
    fn = cached_for(model, "elbo", lambda: tf.function(lambda xb: _elbo_batch(model, xb), reduce_retracing=True))
    return np.concatenate([fn(tf.constant(x[i:i + batch_size])).numpy() for i in range(0, len(x), batch_size)])
