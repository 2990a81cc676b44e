"""The base class shared by the reconstruction losses."""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import keras

from losses.reduction import reduce_per_example

tfd = tfp.distributions


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
        if value is None:
            continue
        v = value.numpy()
        if not np.all(np.isfinite(v)):
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(v))[0])
            raise ValueError(f"{loss_name}: {what} contains NaN or Inf: {v[bad]} at index {bad}.")


class DistributionLoss(keras.losses.Loss):
    """A Keras loss whose ``y_pred`` may be a TFP distribution or a plain tensor.

    Subclasses implement ``per_example(y_true, y_pred) -> (batch,)`` in nats,
    summed over every axis but the first. ``__call__`` weights it by
    ``sample_weight`` and reduces it over the batch (see
    :mod:`losses.reduction`). Keras' own ``Loss.__call__`` would try to turn a
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
