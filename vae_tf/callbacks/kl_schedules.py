"""KL-weight schedules: ``beta`` as a function of the epoch or the global step, and the callbacks that set it."""

import keras

from vae_tf.errors import InvalidInputError, check_positive_int
from vae_tf.validation import check_beta


def linear_warmup(length, beta=1.0):
    """``t -> beta * min(1, t / length)``: 0 at ``t = 0``, ``beta`` from ``t = length`` on."""
    length = check_positive_int(length, "length")
    return lambda t: beta * min(1.0, t / length)


def cyclical_annealing(period, ramp_fraction=0.5, beta=1.0):
    """Cyclical annealing (Fu et al., 2019): ``t -> beta * min(1, (t mod period) / (ramp_fraction * period))``.

    Each cycle of ``period`` epochs or steps rises linearly from 0 to ``beta`` over its first
    ``ramp_fraction`` and stays there for the rest.
    """
    period = check_positive_int(period, "period")
    if not 0 < ramp_fraction <= 1:
        raise InvalidInputError(f"ramp_fraction must lie in (0, 1], got {ramp_fraction!r}.")
    ramp = ramp_fraction * period
    return lambda t: beta * min(1.0, (t % period) / ramp)


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


class KLWarmup(BetaSchedule):
    """KL warm-up (Bowman et al., 2016; Sonderby et al., 2016): ``BetaSchedule(linear_warmup(N, beta_target))``.

    ``KLWarmup(epochs=N)``: ``beta = beta_target * min(1, epoch / N)``, set at each epoch's
    start (0 in the first epoch, ``beta_target`` from epoch ``N`` on, 0-based).
    ``KLWarmup(steps=N)``: the same per training step, ``beta_target * min(1, step / N)``.
    ``beta`` overrides the end value, which is otherwise the model's ``beta_target``.
    """

    def __init__(self, epochs=None, steps=None, beta=None):
        if (epochs is None) == (steps is None):
            raise InvalidInputError("KLWarmup needs exactly one of epochs=N or steps=N.")
        self.length = check_positive_int(epochs if steps is None else steps, "epochs" if steps is None else "steps")
        self.end = None if beta is None else check_beta(beta)
        super().__init__(linear_warmup(self.length, 1.0 if self.end is None else self.end),
                         unit="epoch" if steps is None else "step")

    def set_model(self, model):
        super().set_model(model)
        if self.end is None:  # the end value is the model's, known only now
            target = getattr(model, "beta_target", None)
            if target is None:
                raise TypeError(f"KLWarmup needs a vae_tf.VAE (a model with beta_target), got {type(model).__name__}.")
            self.fn = linear_warmup(self.length, target)
