"""What every loss here shares: the reduction to one scalar, the input checks, and :class:`DistributionLoss`.

Every loss in this package first computes one number per example, in nats, summed over the event
dimensions (every axis but the first). :func:`reduce_per_example` turns those numbers into the
scalar Keras minimises: weighted by ``sample_weight`` and averaged over
the batch (``"sum_over_batch_size"``, Keras' default), then divided by the
number of replicas when running under a ``tf.distribute`` strategy, exactly as
Keras' own losses do, so gradients all-reduced with SUM give the global mean.
"""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import keras

tfd = tfp.distributions

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


def is_distribution(obj):
    """True for any TFP distribution, including the tensor-coercible ones ``tfp.layers`` return."""
    return isinstance(obj, tfd.Distribution)


def check_same_shape(y_true, y_pred, loss_name):
    """Raises ``ValueError`` when the static shapes of target and prediction cannot match."""
    if not y_true.shape.is_compatible_with(y_pred.shape):
        raise ValueError(
            f"{loss_name}: y_true has shape {y_true.shape} but the prediction has shape "
            f"{y_pred.shape}; they must match (batch, *event_shape)."
        )


def check_unit_interval(y_true, loss_name):
    """Targets of a Bernoulli-type loss must lie in [0, 1].

    Checked when the loss runs eagerly (a ``ValueError``). Inside a compiled
    graph the check is skipped: XLA drops assertions anyway, which is why
    ``vae_tf.VAE.fit`` validates its data before training.
    """
    if tf.executing_eagerly():
        v = y_true.numpy()
        if v.size and (np.nanmin(v) < 0 or np.nanmax(v) > 1):
            hint = " (integer pixels in 0..255? divide by 255)" if np.nanmax(v) > 1 else ""
            raise ValueError(
                f"{loss_name}: targets must lie in [0, 1]; got values in "
                f"[{np.nanmin(v):g}, {np.nanmax(v):g}]{hint}."
            )


def first_non_finite(values):
    """``(index, value)`` of the first NaN or Inf in the array ``values`` (C order), or None when all are finite.

    The one place the package looks for non-finite numbers: the losses' eager checks, the
    distribution layers' inputs and ``vae_tf.validation.check_images`` all report its answer.
    """
    values = np.asarray(values)
    finite = np.isfinite(values)
    if finite.all():
        return None
    index = tuple(int(i) for i in np.argwhere(~finite)[0])
    return index, values[index]


def check_finite_nonempty(y_true, y_pred, loss_name):
    """An empty batch, or NaN/Inf in the targets or in a tensor prediction, raises ``ValueError``.

    Eager calls only, like :func:`check_unit_interval`: inside a compiled
    training step the data were checked before training.
    """
    if not tf.executing_eagerly():
        return
    if y_true.shape.rank and y_true.shape[0] == 0:
        raise ValueError(f"{loss_name}: empty batch: y_true has shape {y_true.shape}; need at least one example.")
    for what, value in (("y_true", y_true), ("the prediction", None if is_distribution(y_pred) else y_pred)):
        bad = None if value is None else first_non_finite(value.numpy())
        if bad is not None:
            raise ValueError(f"{loss_name}: {what} contains NaN or Inf: {bad[1]} at index {bad[0]}.")


class DistributionLoss(keras.losses.Loss):
    """A Keras loss whose ``y_pred`` may be a TFP distribution or a plain tensor.

    Subclasses implement ``per_example(y_true, y_pred) -> (batch,)`` in nats,
    summed over every axis but the first. ``__call__`` weights it by
    ``sample_weight`` and reduces it over the batch (see
    :func:`reduce_per_example`). Keras' own ``Loss.__call__`` would try to turn a
    distribution into a tensor, which is why this class replaces it.
    """

    #: VAE models pass a distribution to losses that set this, the mean otherwise.
    accepts_distribution = True

    def __call__(self, y_true, y_pred, sample_weight=None):
        with tf.name_scope(self.name):
            dtype = self.dtype if self.dtype else "float32"
            y_true = tf.cast(tf.convert_to_tensor(y_true), dtype)
            if not is_distribution(y_pred):
                if not (tf.is_tensor(y_pred) or isinstance(y_pred, (np.ndarray, list, float, int))):
                    raise TypeError(
                        f"{self.name}: y_pred must be a TFP distribution or a tensor, "
                        f"got {type(y_pred).__name__}."
                    )
                y_pred = tf.cast(tf.convert_to_tensor(y_pred), dtype)
            check_finite_nonempty(y_true, y_pred, self.name)
            per_example = self.per_example(y_true, y_pred)
            return reduce_per_example(per_example, sample_weight, self.reduction)

    def call(self, y_true, y_pred):
        return self.per_example(y_true, y_pred)

    def per_example(self, y_true, y_pred):  # pragma: no cover - abstract
        raise NotImplementedError
