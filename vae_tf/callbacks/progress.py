"""The progress bar that counts the steps that ran, and epoch timing: a wall-clock budget, an early speed estimate."""

import math
import time

import keras
import numpy as np

from vae_tf.errors import InvalidInputError


class StepCountingProgbarLogger(keras.callbacks.ProgbarLogger):
    """A ``keras.callbacks.ProgbarLogger`` whose count never passes the epoch's real number of steps.

    Training counts ``model.optimizer.iterations`` since the epoch began, clipped to the
    call's steps ``[begin + 1, begin + s]`` and to the known step total. Evaluation (no
    optimizer step) counts ``min(begin + s, steps)`` when the total is known, and ``begin + 1``,
    the steps certainly run, when it is not (a ``tf.data`` pipeline of unknown cardinality;
    the bar then ends on "N/Unknown"). A training epoch of unknown length ends on the exact
    count, and later epochs use it as their total.
    """

    def __init__(self):
        super().__init__()
        self._begin = 0
        self._iterations_at_epoch_begin = None
        self._count_is_exact = True

    def _optimizer_iterations(self):
        optimizer = getattr(self.model, "optimizer", None)
        iterations = getattr(optimizer, "iterations", None)
        return None if iterations is None else int(keras.ops.convert_to_numpy(iterations))

    def on_epoch_begin(self, epoch, logs=None):
        self._iterations_at_epoch_begin = self._optimizer_iterations()
        super().on_epoch_begin(epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._begin = batch

    def on_test_batch_begin(self, batch, logs=None):
        self._begin = batch

    def on_predict_batch_begin(self, batch, logs=None):
        self._begin = batch

    def on_train_batch_end(self, batch, logs=None):
        ran = None
        now = self._optimizer_iterations()
        if now is not None and self._iterations_at_epoch_begin is not None:
            ran = now - self._iterations_at_epoch_begin
        self._update_progbar(self._steps_done(batch, ran), logs)

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self._update_progbar(self._steps_done(batch), logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._update_progbar(self._steps_done(batch), None)

    def _steps_done(self, last_planned, counted=None):
        """Zero-based index of the last step that ran (``_update_progbar`` adds one)."""
        first, last = self._begin, last_planned
        if self.target is not None:
            last = min(last, self.target - 1)
        self._count_is_exact = counted is not None or self.target is not None
        if counted is not None:
            return max(first, min(last, counted - 1))
        return last if self.target is not None else first

    def _finalize_progbar(self, logs):
        if self.target is None and not self._count_is_exact:
            # Only a lower bound is known: end on "N/Unknown" rather than claim N steps in all.
            self.progbar.update(self.seen, list((logs or {}).items()), finalize=True)
            return
        super()._finalize_progbar(logs)


def with_step_counting_progress_bar(callbacks, verbose):
    """``callbacks`` (a list, or None) with a :class:`StepCountingProgbarLogger` added when ``fit`` or ``evaluate``
    prints (``verbose != 0``) and the caller gave no ``ProgbarLogger`` of their own; a ``CallbackList`` as is."""
    if verbose == 0 or isinstance(callbacks, keras.callbacks.CallbackList):
        return callbacks
    callbacks = list(callbacks or [])
    if not any(isinstance(c, keras.callbacks.ProgbarLogger) for c in callbacks):
        callbacks.append(StepCountingProgbarLogger())
    return callbacks


class EpochTimer(keras.callbacks.Callback):
    """The time each epoch took, and an optional wall-clock budget for the whole ``fit``.

    ``seconds``: the training phase of each epoch (validation excluded; Keras runs validation after the last
    training step, so the phase is ``on_epoch_begin -> on_test_begin``, or ``-> on_epoch_end`` without validation),
    for throughput figures. ``elapsed``: wall-clock seconds from the start of ``fit`` to the end of each epoch,
    validation and compilation included: what the run cost so far.

    With ``budget_seconds``, training stops at the first compiled call that ends once the budget is spent, inside
    the epoch if need be: Keras then validates that partial epoch and ends ``fit``, so a run ends past the budget
    by one call of ``steps_per_execution`` steps and one validation pass, not by up to a whole epoch (a CIFAR-10
    epoch of a slow decoder is longer than a budget of minutes). The epoch count given to ``fit`` is then a
    maximum. ``fractions``: the share of each epoch's steps that ran (1.0 but for a last, cut epoch, when the
    number of steps is known); ``stopped_by_budget`` says whether the budget, rather than that count, ended the run.
    """

    def __init__(self, budget_seconds=None):
        super().__init__()
        if budget_seconds is not None and not (math.isfinite(budget_seconds) and budget_seconds > 0):
            raise InvalidInputError(f"a time budget must be a finite number of seconds > 0, got {budget_seconds!r}.")
        self.budget_seconds = budget_seconds
        self.seconds, self.elapsed, self.fractions = [], [], []
        self.stopped_by_budget = False
        self._start = self._train_start = None
        self._steps_run = 0

    def on_train_begin(self, logs=None):
        self._train_start = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        self._steps_run = 0

    def _stop_if_spent(self, elapsed):
        # Checked after every compiled call and at each epoch's end (the budget may run out during validation).
        if self.budget_seconds is not None and elapsed >= self.budget_seconds and not self.model.stop_training:
            self.stopped_by_budget = self.model.stop_training = True

    def on_train_batch_end(self, batch, logs=None):
        self._steps_run = batch + 1
        self._stop_if_spent(time.perf_counter() - self._train_start)

    @property
    def epochs_trained(self):
        """The epochs run, with a last epoch cut by the budget counted by its share of steps (``sum(fractions)``,
        to 2 decimals): an int when whole (3), else a float (2.4)."""
        total = round(sum(self.fractions), 2)
        return int(total) if total == int(total) else total

    def _stop(self):
        if self._start is not None:
            self.seconds.append(time.perf_counter() - self._start)
            self._start = None

    def on_test_begin(self, logs=None):
        self._stop()

    def on_epoch_end(self, epoch, logs=None):
        self._stop()
        self.elapsed.append(time.perf_counter() - self._train_start)
        steps = (self.params or {}).get("steps")
        self.fractions.append(min(1.0, self._steps_run / steps) if steps and self._steps_run else 1.0)
        self._stop_if_spent(self.elapsed[-1])


class EpochSpeed(keras.callbacks.Callback):
    """How long an epoch takes once compiled, said once early: ``report(seconds)`` is called after the first epoch
    by which the training phase has run ``steady_calls`` compiled calls after its first (or at the end of ``fit``),
    once the progress bar has closed that epoch's line (at the next epoch's start), with a dict:

    * ``elapsed``, ``epochs``: the seconds of the epochs so far, and how many;
    * ``epoch``: a steady epoch: the median seconds per step of the training calls times the training steps, plus
      ``validation``, the same of the validation phase.

    The medians leave out each phase's first call (tracing and compiling) and any other that compiled (Keras
    compiles again for a shorter last call of ``steps_per_execution`` steps, or a last smaller batch): on small data
    the first epoch is mostly compiling, so its own time says little of the next ones.
    """

    def __init__(self, report, steady_calls=5):
        super().__init__()
        self.report, self.steady_calls = report, int(steady_calls)
        self._per_step = {"train": [], "validation": []}  # seconds per step of each compiled call after the first
        self._steps = {"train": 0, "validation": 0}      # steps of the phase so far in this epoch
        self._called = set()
        self._last = self._epoch_start = self._pending = None
        self.elapsed, self.epochs, self._said = 0.0, 0, False

    def _call_ended(self, phase, step):
        now = time.perf_counter()
        if phase in self._called:
            self._per_step[phase].append((now - self._last) / max(1, step + 1 - self._steps[phase]))
        self._called.add(phase)
        self._steps[phase], self._last = step + 1, now

    def _say(self):
        if self._pending is not None:
            self.report(self._pending)
            self._pending = None

    def on_epoch_begin(self, epoch, logs=None):
        self._say()
        self._epoch_start = self._last = time.perf_counter()
        self._steps["train"] = 0

    def on_train_end(self, logs=None):
        self._say()

    def on_train_batch_end(self, batch, logs=None):
        self._call_ended("train", batch)

    def on_test_begin(self, logs=None):
        self._last, self._steps["validation"] = time.perf_counter(), 0

    def on_test_batch_end(self, batch, logs=None):
        self._call_ended("validation", batch)

    def _steady(self, phase):
        per_step = self._per_step[phase]
        return float(np.median(per_step)) * self._steps[phase] if per_step else None

    def on_epoch_end(self, epoch, logs=None):
        self.elapsed += time.perf_counter() - self._epoch_start
        self.epochs += 1
        last = self.epochs == int((self.params or {}).get("epochs") or 0)
        if self._said or not (len(self._per_step["train"]) >= self.steady_calls or last):
            return
        self._said = True
        training = self._steady("train")
        validation = self._steady("validation") or 0.0
        epoch = self.elapsed / self.epochs if training is None else training + validation
        self._pending = {"elapsed": self.elapsed, "epochs": self.epochs, "epoch": epoch, "validation": validation}
