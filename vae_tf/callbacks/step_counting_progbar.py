"""Keras' progress bar, counting the steps that really ran when one call runs several.

With ``steps_per_execution = s``, Keras 3.15 reports each call's *last planned*
step, ``begin + s - 1``, so an epoch of 100 steps at ``s = 8`` ends on
"104/100" (keras-team/keras#20861; the fix, keras-team/keras#21422, is not
released). :class:`StepCountingProgbarLogger` shows instead, for a training
step, ``optimizer.iterations`` counted from the epoch's start (exact even when
a dataset's length is unknown), and always a count within
``[begin + 1, min(begin + s, steps)]``: the steps of a call that certainly ran,
never more than the epoch has.
"""

import inspect

import keras


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


def with_step_counting_progress_bar(keras_method, args, kwargs):
    """``kwargs`` for ``keras_method`` (``keras.Model.fit`` or ``evaluate``) with a
    :class:`StepCountingProgbarLogger` added when it prints (``verbose != 0``) and the
    caller gave no ``ProgbarLogger`` of their own.

    ``args`` are the positional arguments after ``x`` and ``y``; they are returned as keywords.
    """
    names = list(inspect.signature(keras_method).parameters)[3:]  # after self, x, y
    if len(args) > len(names):
        raise TypeError(f"{keras_method.__name__}() takes at most {len(names) + 2} positional arguments after self.")
    bound = dict(zip(names, args))
    clash = sorted(set(bound) & set(kwargs))
    if clash:
        raise TypeError(f"{keras_method.__name__}() got multiple values for argument {clash[0]!r}")
    bound.update(kwargs)
    callbacks = bound.get("callbacks")
    if bound.get("verbose", "auto") == 0 or isinstance(callbacks, keras.callbacks.CallbackList):
        return bound
    callbacks = list(callbacks or [])
    if not any(isinstance(c, keras.callbacks.ProgbarLogger) for c in callbacks):
        callbacks.append(StepCountingProgbarLogger())
    bound["callbacks"] = callbacks
    return bound
