"""Learning-rate decay over a run, by training step (``fit``) or by any progress fraction (a time budget)."""

import math

import tensorflow as tf
import keras

from vae_tf.errors import InvalidInputError

#: Values of ``vae-tf train --lr-schedule``.
LR_SCHEDULES = ("constant", "cosine", "exponential")
#: Cosine decay ends at this fraction of the initial rate; exponential decay at this one.
COSINE_FLOOR = 0.01
EXPONENTIAL_END = 0.1


def decay_factor(kind, progress):
    """The learning rate's multiplier at ``progress`` in [0, 1] of the run (clipped), a tensor or a float.

    Formulas, with ``p = progress``::

        constant     1
        cosine       a + (1 - a) (1 + cos(pi p)) / 2,   a = COSINE_FLOOR      (Loshchilov & Hutter, 2017)
        exponential  EXPONENTIAL_END ** p                (10x lower at the end)
    """
    if kind not in LR_SCHEDULES:
        raise InvalidInputError(f"learning-rate schedule must be one of {', '.join(LR_SCHEDULES)}, got {kind!r}.")
    p = tf.clip_by_value(tf.cast(progress, tf.float32), 0.0, 1.0)
    if kind == "constant":
        return tf.ones_like(p)
    if kind == "cosine":
        return COSINE_FLOOR + (1.0 - COSINE_FLOOR) * 0.5 * (1.0 + tf.cos(math.pi * p))
    return tf.pow(EXPONENTIAL_END, p)


@keras.saving.register_keras_serializable(package="vae_tf")
class DecaySchedule(keras.optimizers.schedules.LearningRateSchedule):
    """``learning_rate * decay_factor(kind, step / total_steps)``, evaluated in the compiled step."""

    def __init__(self, learning_rate, total_steps, kind="cosine"):
        decay_factor(kind, 0.0)  # validates kind
        self.learning_rate = float(learning_rate)
        self.total_steps = max(1, int(total_steps))
        self.kind = kind

    def __call__(self, step):
        return self.learning_rate * decay_factor(self.kind, tf.cast(step, tf.float32) / self.total_steps)

    def get_config(self):
        return {"learning_rate": self.learning_rate, "total_steps": self.total_steps, "kind": self.kind}


def learning_rate_schedule(kind, learning_rate, total_steps):
    """What ``keras.optimizers.Adam(learning_rate=...)`` gets: a float for ``"constant"``, else a :class:`DecaySchedule`."""
    if kind == "constant":
        return float(learning_rate)
    return DecaySchedule(learning_rate, total_steps, kind)
