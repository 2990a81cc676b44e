"""A callback that sets the KL weight ``beta`` from any schedule, per epoch or per step.

A schedule assigns the model's non-trainable ``beta`` variable from a callback, outside the
compiled step, which reads the variable: nothing is retraced, XLA included. Per-epoch schedules
set it before each epoch. Per-step schedules set it before each compiled call from the global
step (``optimizer.iterations``), so with ``steps_per_execution = S`` the value changes every
``S`` steps (Keras runs batch callbacks once per call). Under ``tf.distribute`` the assignment
happens in cross-replica context and reaches every replica. The global step and the epoch index
survive ``keras.callbacks.BackupAndRestore``, so a resumed run continues the schedule.
"""

import keras

from vae_tf.errors import InvalidInputError
from vae_tf.validation import check_beta

UNITS = ("epoch", "step")


class BetaSchedule(keras.callbacks.Callback):
    """Sets the model's ``beta`` to ``fn(t)`` during ``fit``.

    Args:
        fn: a Python function of the epoch index (``unit="epoch"``, 0-based) or of the global
            training step (``unit="step"``, the optimizer's iteration count) returning a finite
            ``beta >= 0``; anything else raises ``ValueError`` before the step runs.
        unit: ``"epoch"`` (set at the start of each epoch) or ``"step"`` (before each
            compiled call).
    """

    def __init__(self, fn, unit="epoch"):
        super().__init__()
        if not callable(fn):
            raise TypeError(f"BetaSchedule needs a callable schedule, got {type(fn).__name__}.")
        if unit not in UNITS:
            raise InvalidInputError(f"unit must be one of {UNITS}, got {unit!r}.")
        self.fn = fn
        self.unit = unit

    def _set(self, t):
        beta = getattr(self.model, "beta", None)
        if beta is None or not hasattr(beta, "assign"):
            raise TypeError(f"{type(self).__name__} needs a vae_tf.VAE (a model with a beta variable), "
                            f"got {type(self.model).__name__}.")
        value = self.fn(t)
        try:
            value = check_beta(value)
        except ValueError:
            raise ValueError(f"{type(self).__name__}: the schedule gave beta={value!r} at {self.unit} {t}; "
                             "beta must be a finite number >= 0.") from None
        beta.assign(value)

    def on_epoch_begin(self, epoch, logs=None):
        if self.unit == "epoch":
            self._set(epoch)

    def on_train_batch_begin(self, batch, logs=None):
        if self.unit == "step":
            self._set(int(self.model.optimizer.iterations.numpy()))
