"""Distribution-level speed tricks for XLA on CPU: the same values as the plain TFP calls, faster.

``reparameterized_sample`` draws ``z = mu + sigma * eps`` with Philox named explicitly;
``flat_event_view`` evaluates ``log p(x)`` on a ``(rows, D)`` layout; ``FastBernoulli`` is a
``tfd.Bernoulli`` whose log-density costs one ``exp`` and one ``log`` per pixel.
``tests/test_fast_paths.py`` checks that each computes what TFP computes.
"""

import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions


def reparameterized_sample(q, seed, sample_shape=()):
    """A reparameterised draw from ``q`` with the same law as ``q.sample(sample_shape, seed=seed)``.

    For ``q = Independent(Normal(mu, sigma))`` it computes ``z = mu + sigma * eps``,
    ``eps ~ N(0, I)`` drawn with the Philox generator named explicitly; any
    other ``q`` falls back to ``q.sample``. Why: TFP leaves the generator to
    TensorFlow's "auto-select", which under XLA on CPU cost about 30x Philox
    (3.9 ms against 0.13 ms for a 100x50 draw, more than the whole encoder).
    """
    base = getattr(q, "distribution", None)
    if not (isinstance(q, tfd.Independent) and type(base) is tfd.Normal):
        return q.sample(sample_shape, seed=seed)
    loc, scale = base.loc, base.scale
    batch_shape = tf.broadcast_dynamic_shape(tf.shape(loc), tf.shape(scale))
    shape = tf.concat([tf.reshape(tf.cast(sample_shape, tf.int32), [-1]), batch_shape], 0)
    eps = tf.random.stateless_normal(shape, seed=seed, dtype=loc.dtype, alg="philox")
    return loc + scale * eps


def flat_event_view(px, x):
    """``(p', x')``: ``px`` and ``x`` with the event flattened to one axis, ``log p'(x') = log p(x)``.

    Why: likelihood layers reshape their parameters to the image shape, e.g.
    ``(28, 28, 1)``, and XLA on CPU vectorises element-wise work along the
    minor axis, here of size 1: TFP's Bernoulli log-density ran at ~18 ns per
    pixel on that layout against ~7 ns on ``(rows, 784)``. ``(px, x)`` come back
    unchanged unless ``px`` is ``Independent`` over an element-wise distribution
    whose parameters all have the full ``(rows, *event_shape)`` shape.
    """
    if not isinstance(px, tfd.Independent) or x.shape.rank is None or x.shape.rank <= 2:
        return px, x
    base = px.distribution
    if base.batch_shape.rank != x.shape.rank or base.event_shape.rank != 0:
        return px, x
    rows = tf.shape(x)[0]
    flat = {}
    for name in type(base).parameter_properties():
        value = base.parameters.get(name)
        if value is None:
            continue
        value = tf.convert_to_tensor(value)
        if value.shape.rank != x.shape.rank:
            return px, x
        flat[name] = tf.reshape(value, (rows, -1))
    return tfd.Independent(base.copy(**flat), reinterpreted_batch_ndims=1), tf.reshape(x, (rows, -1))


class FastBernoulli(tfd.Bernoulli):
    """A ``tfd.Bernoulli`` whose ``log_prob`` takes one ``exp`` and one ``log`` per value instead of two softplus.

    With logits ``l`` and ``c = log(1 + exp(-|l|))``::

        log p(x) = (1 - x) log(1 - sigmoid(l)) + x log sigmoid(l)
                 = -[(1 - x) relu(l) + x relu(-l) + c]

    the same function TFP's ``Bernoulli.log_prob`` computes as
    ``-(1 - x) softplus(l) - x softplus(-l)`` (also for grey ``x``, where it is the negative binary
    cross-entropy), with ``0 * inf = 0`` as there, so ``l = +-inf`` gives ``0`` or ``-inf``.
    ``log(1 + e)`` instead of ``log1p(e)`` is off by at most ``6e-8`` nats per value (when
    ``e < 2^-24`` it returns 0); the gradient is ``sigmoid(l) - x``, also at ``l = 0``. Why: XLA on
    CPU evaluates ``log`` 1.5x faster than ``log1p``, and the log-density of a 30,000 x 784 Bernoulli
    ran in 20 ms against TFP's 44 ms (2 cores). With ``probs`` instead of logits it is TFP's
    ``Bernoulli`` unchanged.
    """

    def _log_prob(self, event):
        if self._logits is None:
            return super()._log_prob(event)
        logits = tf.convert_to_tensor(self._logits)
        event = tf.cast(event, logits.dtype)
        # max(0, l), min(l, 0) and min(l, -l) = -|l| in this argument order: at l = 0 TensorFlow's tie rule
        # then gives the gradient sigmoid(0) - x = 0.5 - x, which abs and relu (gradient 0 at 0) lose.
        log_normalizer = tf.math.log(1.0 + tf.exp(tf.minimum(logits, -logits)))
        return -(tf.math.multiply_no_nan(tf.maximum(0.0, logits), 1.0 - event)
                 - tf.math.multiply_no_nan(tf.minimum(logits, 0.0), event) + log_normalizer)
