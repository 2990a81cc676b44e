"""Keras callbacks for VAE training: KL-weight schedules, TensorBoard pictures, the progress bar, epoch timing.

    BetaSchedule(fn, unit="epoch"|"step")    beta = fn(epoch or global step)
    KLWarmup(epochs=N) | KLWarmup(steps=N)   BetaSchedule(linear_warmup(N, beta_target))
    linear_warmup, cyclical_annealing        schedules as functions of t
    ImageSummaries(log_dir, x)               reconstructions and samples as TensorBoard images (image_grid)
    StepCountingProgbarLogger                the progress bar counting the steps that ran (while Keras miscounts)
    EpochTimer(budget_seconds=None)          each epoch's seconds; with a budget, no epoch starts once it is spent
    EpochSpeed(report)                       the first epoch's time, and what a later one takes
"""

import math
import os
import time

import keras
import numpy as np
import tensorflow as tf

from vae_tf.errors import InvalidInputError, check_positive_int
from vae_tf.validation import check_beta, check_images


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


def image_grid(images, columns, pad=1):
    """``(rows (H + pad) + pad, columns (W + pad) + pad, C)``: ``images`` ``(n, H, W, C)`` tiled row by row.

    ``rows = ceil(n / columns)``; values are clipped to [0, 1]; the padding and any unfilled cells
    are white (1). Every channel is kept (``C = 1`` grey, ``C = 3`` colour).
    """
    images = np.clip(np.asarray(images, np.float32), 0.0, 1.0)
    if images.ndim != 4:
        raise ValueError(f"image_grid tiles images of shape (n, H, W, C), got {images.shape}.")
    n, h, w, c = images.shape
    rows = -(-n // columns)
    grid = np.ones((rows * (h + pad) + pad, columns * (w + pad) + pad, c), np.float32)
    for i, image in enumerate(images):
        r, col = divmod(i, columns)
        top, left = pad + r * (h + pad), pad + col * (w + pad)
        grid[top:top + h, left:left + w] = image
    return grid


def _as_images(x, event_shape):
    """``(n, H, W, C)`` with C in {1, 3, 4}: ``(H, W)`` gains a channel, a flat ``(D,)`` event a square."""
    event_shape = tuple(int(d) for d in event_shape)
    n = x.shape[0]
    if len(event_shape) == 3 and event_shape[-1] in (1, 3, 4):
        return np.reshape(x, (n,) + event_shape)
    if len(event_shape) == 2:
        return np.reshape(x, (n,) + event_shape + (1,))
    if len(event_shape) == 1 and math.isqrt(event_shape[0]) ** 2 == event_shape[0]:
        side = math.isqrt(event_shape[0])
        return np.reshape(x, (n, side, side, 1))
    raise InvalidInputError(f"ImageSummaries shows images of shape (H, W), (H, W, 1|3|4) or (D,) with D a square; "
                     f"the model's event_shape is {event_shape}.")


class ImageSummaries(keras.callbacks.Callback):
    """Writes two images to TensorBoard at the end of every ``every`` epochs (step = epoch index).

    - ``reconstructions``: the images ``x`` (odd rows) above their reconstructions
      ``VAE.reconstruct(x)`` (the mean of ``p(x|z)`` at ``z = E[q(z|x)]``, even rows);
    - ``samples``: ``VAE.sample(num_samples, seed=seed)``, the same latent draws every epoch,
      so the pictures show the decoder learning.

    Values are clipped to [0, 1]. The event file goes to ``log_dir/run`` (default
    ``log_dir/images``), so with ``keras.callbacks.TensorBoard(log_dir)`` TensorBoard shows the
    runs ``train``, ``validation`` and ``images`` side by side::

        tensorboard --logdir log_dir

    Args:
        log_dir: TensorBoard log directory.
        x: a few images (e.g. 8 validation images), ``(n, *event_shape)`` in the model's range.
        num_samples: images drawn from the prior.
        every: write every this many epochs (the last epoch is written too).
        seed: seed of the samples' latent draws.
        run: subdirectory of ``log_dir`` for the event file.
    """

    def __init__(self, log_dir, x, num_samples=16, every=1, seed=0, run="images", columns=8):
        super().__init__()
        self.log_dir = os.fspath(log_dir)
        self.x = x
        self.num_samples = check_positive_int(num_samples, "num_samples")
        self.every = check_positive_int(every, "every")
        self.columns = check_positive_int(columns, "columns")
        self.seed = int(seed)
        self.run = run
        self._writer = None

    def on_train_begin(self, logs=None):
        self.x = check_images(self.x, getattr(self.model, "likelihood", None), name="ImageSummaries x")
        _as_images(self.x[:1], self.model.event_shape)  # a clear error now rather than after an epoch
        self._writer = tf.summary.create_file_writer(os.path.join(self.log_dir, self.run))

    def on_epoch_end(self, epoch, logs=None):
        last = self.params.get("epochs") if self.params else None
        if (epoch + 1) % self.every and epoch + 1 != last:
            return
        self.write(epoch)

    def write(self, step):
        """Writes both images at ``step`` now."""
        event_shape = self.model.event_shape
        originals = _as_images(self.x, event_shape)
        reconstructions = _as_images(np.asarray(self.model.reconstruct(self.x)), event_shape)
        samples = _as_images(np.asarray(self.model.sample(self.num_samples, seed=self.seed)), event_shape)
        columns = min(self.columns, len(originals))
        pairs = []
        for start in range(0, len(originals), columns):
            pairs += [originals[start:start + columns], reconstructions[start:start + columns]]
        # Each row of originals sits above its reconstructions; a short last row is padded with white.
        rows = [np.concatenate([row, np.ones((columns - len(row),) + row.shape[1:], np.float32)]) for row in pairs]
        side = min(self.columns, math.ceil(math.sqrt(self.num_samples)))
        with self._writer.as_default():
            tf.summary.image("reconstructions", image_grid(np.concatenate(rows), columns)[None], step=step)
            tf.summary.image("samples", image_grid(samples, side)[None], step=step)
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None


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

    With ``budget_seconds``, an epoch is started only while the budget is not spent: training stops at the end of
    the first epoch whose ``elapsed`` reaches it (a finished epoch is kept; the last one may end past the budget by
    less than one epoch). The epoch count given to ``fit`` is then a maximum. ``stopped_by_budget`` says whether
    the budget, rather than that count, ended the run.
    """

    def __init__(self, budget_seconds=None):
        super().__init__()
        if budget_seconds is not None and not (math.isfinite(budget_seconds) and budget_seconds > 0):
            raise InvalidInputError(f"a time budget must be a finite number of seconds > 0, got {budget_seconds!r}.")
        self.budget_seconds = budget_seconds
        self.seconds, self.elapsed = [], []
        self.stopped_by_budget = False
        self._start = self._train_start = None

    def on_train_begin(self, logs=None):
        self._train_start = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def _stop(self):
        if self._start is not None:
            self.seconds.append(time.perf_counter() - self._start)
            self._start = None

    def on_test_begin(self, logs=None):
        self._stop()

    def on_epoch_end(self, epoch, logs=None):
        self._stop()
        self.elapsed.append(time.perf_counter() - self._train_start)
        if self.budget_seconds is not None and self.elapsed[-1] >= self.budget_seconds:
            self.stopped_by_budget = not self.model.stop_training
            self.model.stop_training = True


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
