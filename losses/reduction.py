"""How a per-example loss becomes the scalar Keras minimises.

Every loss in this package first computes one number per example, in nats,
summed over the event dimensions (every axis but the first). This module turns
those numbers into the scalar: weighted by ``sample_weight`` and averaged over
the batch (``"sum_over_batch_size"``, Keras' default), then divided by the
number of replicas when running under a ``tf.distribute`` strategy, exactly as
Keras' own losses do, so gradients all-reduced with SUM give the global mean.
"""

import tensorflow as tf

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


def sum_over_event_dims(values):
    """Sums a ``(batch, *event_shape)`` tensor to ``(batch,)``; a rank-1 tensor is returned as is."""
    values = tf.convert_to_tensor(values)
    if values.shape.rank is not None and values.shape.rank <= 1:
        return values
    return tf.reduce_sum(values, axis=tf.range(1, tf.rank(values)))


def num_replicas():
    """Replicas taking part in the current step (1 outside a strategy)."""
    return tf.distribute.get_strategy().num_replicas_in_sync


def scale_for_replicas(value):
    """``value / num_replicas``: what each replica contributes to a SUM all-reduce."""
    n = num_replicas()
    return value if n == 1 else value * tf.cast(1.0 / n, value.dtype)


def unscale_for_replicas(value):
    """Inverse of :func:`scale_for_replicas`, for reporting the loss of one replica's batch."""
    n = num_replicas()
    return value if n == 1 else value * tf.cast(n, value.dtype)


def reduce_per_example(per_example, sample_weight=None, reduction="sum_over_batch_size"):
    """Reduces a ``(batch,)`` loss.

    ``"sum_over_batch_size"``: ``sum_i w_i l_i / batch``, then divided by the
    number of replicas; ``"sum"``: ``sum_i w_i l_i`` (also divided);
    ``"mean_with_sample_weight"``: ``sum_i w_i l_i / sum_i w_i``;
    ``"none"``/``None``: the weighted ``(batch,)`` vector.
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    per_example = tf.convert_to_tensor(per_example)
    if sample_weight is not None:
        sample_weight = tf.cast(tf.convert_to_tensor(sample_weight), per_example.dtype)
        # One weight per example: (batch,) or (batch, 1).
        sample_weight = tf.reshape(sample_weight, tf.shape(per_example))
        per_example = per_example * sample_weight
    if reduction in ("none", None):
        return per_example
    total = tf.reduce_sum(per_example)
    if reduction == "sum":
        return scale_for_replicas(total)
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        return scale_for_replicas(tf.math.divide_no_nan(total, tf.reduce_sum(sample_weight)))
    batch = tf.cast(tf.shape(per_example)[0], per_example.dtype)
    return scale_for_replicas(tf.math.divide_no_nan(total, batch))
