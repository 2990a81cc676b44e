"""``log p(x)`` evaluated on a flat ``(rows, D)`` event layout: the same value, vectorised better by XLA on CPU."""

import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions


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


