"""Fitting a VAE configuration on an :class:`~vae_tf.data.ImageData`, with timing."""

import dataclasses
import math
import time

import keras

from vae_tf.data import binarize_static, make_dataset
from vae_tf.callbacks import KLWarmup
from vae_tf.models.vae.config import build_loss
from vae_tf.training.schedules import learning_rate_schedule


@dataclasses.dataclass
class TrainingResult:
    """What ``fit`` did: Keras' history, wall-clock seconds, training throughput."""

    history: dict
    seconds: float
    train_seconds: float
    examples_per_second: float
    epochs_run: int


class EpochTimer(keras.callbacks.Callback):
    """Seconds spent in the training phase of each epoch (validation excluded).

    Keras runs validation after the last training step of an epoch, so an epoch's training
    phase is ``on_epoch_begin -> on_test_begin`` (or ``-> on_epoch_end`` without validation).
    """

    def __init__(self):
        super().__init__()
        self.seconds = []
        self._start = None

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


def prepare_splits(config, data, seed=0):
    """``(x_train, x_val, x_test, train_binarize)`` for a configuration.

    Binarized configurations train on a fresh Bernoulli draw per epoch and are validated
    and tested on one fixed draw (the same for every configuration with the same seed).
    """
    if not config.binarized:
        return data.x_train, data.x_val, data.x_test, None
    return data.x_train, binarize_static(data.x_val, seed + 1), binarize_static(data.x_test, seed + 2), "dynamic"


def fit_vae(model, config, data, epochs, batch_size=100, seed=0, verbose=1, callbacks=(), learning_rate=1e-3,
            jit_compile="auto", lr_schedule="constant", kl_warmup=0):
    """Compiles ``model`` with ``config``'s loss and fits it on ``data``; returns a :class:`TrainingResult`.

    ``lr_schedule`` (``"constant"``, ``"cosine"``, ``"exponential"``) decays Adam's ``learning_rate``
    over the ``epochs`` (:mod:`vae_tf.training.schedules`); ``kl_warmup=N > 0`` adds
    ``vae_tf.callbacks.KLWarmup(epochs=N)``.

    ``examples_per_second`` counts training images over the training phases of epochs 2..n
    (:class:`EpochTimer`; epoch 1 also compiles); ``seconds`` is the whole ``fit`` wall-clock,
    validation and compilation included. ``jit_compile`` goes to ``VAE.compile`` ("auto": XLA):
    XLA compilation costs tens of seconds on a CPU, worth it only for long runs.
    """
    x_train, x_val, _, binarize = prepare_splits(config, data, seed)
    train = make_dataset(x_train, batch_size, binarize=binarize, shuffle=True, seed=seed)
    val = make_dataset(x_val, batch_size, shuffle=False)
    total_steps = epochs * math.ceil(len(x_train) / batch_size)
    optimizer = keras.optimizers.Adam(learning_rate_schedule(lr_schedule, learning_rate, total_steps))
    model.compile(optimizer=optimizer, loss=build_loss(config, data.event_shape), jit_compile=jit_compile)
    callbacks = [*callbacks, *([KLWarmup(epochs=kl_warmup)] if kl_warmup else [])]
    timer = EpochTimer()
    start = time.perf_counter()
    history = model.fit(train, validation_data=val, epochs=epochs, verbose=verbose,
                        callbacks=[timer, *callbacks], shuffle=False)
    seconds = time.perf_counter() - start
    train_seconds = sum(timer.seconds)
    epochs_run = len(timer.seconds)
    # Throughput in the steady state: the first epoch also traces (and with XLA compiles) the step.
    steady = timer.seconds[1:] if epochs_run > 1 else timer.seconds
    return TrainingResult(
        history={k: [float(v) for v in vs] for k, vs in history.history.items()},
        seconds=seconds,
        train_seconds=train_seconds,
        examples_per_second=len(x_train) * len(steady) / sum(steady) if sum(steady) > 0 else float("nan"),
        epochs_run=epochs_run,
    )
