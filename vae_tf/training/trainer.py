"""Fitting a VAE configuration on an :class:`~vae_tf.data.ImageData`, with timing; saving that never leaves a
half-written model; resuming an interrupted ``fit``.
"""

import dataclasses
import json
import math
import os
import time
from typing import NamedTuple

import keras

from vae_tf.atomic_files import atomic_path
from vae_tf.callbacks import EpochTimer, KLWarmup
from vae_tf.data import binarize_static, dequantize_static, make_dataset
from vae_tf.errors import InvalidInputError, check_positive_number
from vae_tf.models.vae.config import build_loss
from vae_tf.training.schedules import learning_rate_schedule


#: Seed offsets of the fixed validation and test draws (binarization or dequantization).
VALIDATION_SEED_OFFSET, TEST_SEED_OFFSET = 1, 2


@dataclasses.dataclass
class TrainingResult:
    """What ``fit`` did: Keras' history, wall-clock seconds, training throughput."""

    history: dict
    seconds: float
    train_seconds: float
    examples_per_second: float
    epochs_run: int
    #: Wall-clock seconds from the start of ``fit`` to the end of each epoch (validation and compilation included).
    elapsed_seconds: list = dataclasses.field(default_factory=list)
    #: True when a time budget, not the epoch count, ended training.
    stopped_by_budget: bool = False
    #: Epochs trained, a last epoch cut by the budget counted by its share of steps (3, or 2.4).
    epochs_trained: float = 0


class Splits(NamedTuple):
    """The images one configuration trains, validates and is tested on, and how training batches are redrawn."""

    x_train: object
    x_val: object
    x_test: object
    #: ``make_dataset`` options of the training pipeline: ``{"binarize": "dynamic"}``, ``{"dequantize": L}`` or ``{}``,
    #: with ``"levels": L`` when the training images are grey levels (held as integers, a quarter of float32's memory).
    train_options: dict


def prepare_splits(config, likelihood, data, seed=0):
    """:class:`Splits` for a configuration whose model has the decoder ``likelihood``.

    Binarized configurations train on a fresh Bernoulli draw per epoch and are validated
    and tested on one fixed draw (the same for every configuration with the same seed).
    A continuous density (what the decoder's support says) on grey levels is validated and
    tested on one fixed dequantized draw ``(k + u) / L``, the scale of its bits/dim, whether it
    trains on fresh dequantized draws (``config.dequantized``) or on the raw grey values.
    """
    val_seed, test_seed = seed + VALIDATION_SEED_OFFSET, seed + TEST_SEED_OFFSET
    stored = {"levels": data.num_levels} if data.num_levels else {}
    if config.binarized:
        return Splits(data.x_train, binarize_static(data.x_val, val_seed), binarize_static(data.x_test, test_seed),
                      {"binarize": "dynamic", **stored})
    if not likelihood.support.exact and data.num_levels:
        levels = data.num_levels
        return Splits(data.x_train, dequantize_static(data.x_val, levels, val_seed),
                      dequantize_static(data.x_test, levels, test_seed),
                      {"dequantize": levels} if config.dequantized else stored)
    if config.dequantized:
        raise InvalidInputError(f"{config.name}: dequantization needs the data's number of grey levels; "
                                f"{data.name} has float pixels of unknown quantization (num_levels is None).")
    return Splits(data.x_train, data.x_val, data.x_test, stored)


def fit_vae(model, config, splits, epochs, batch_size=100, seed=0, verbose=1, callbacks=(), learning_rate=1e-3,
            jit_compile="auto", lr_schedule="constant", kl_warmup=0, precision="auto", minutes=None):
    """Compiles ``model`` with ``config``'s loss and fits it on ``splits`` (:func:`prepare_splits`); returns a
    :class:`TrainingResult`.

    ``lr_schedule`` (``"constant"``, ``"cosine"``, ``"exponential"``) decays Adam's ``learning_rate``
    over the ``epochs`` (:mod:`vae_tf.training.schedules`); ``kl_warmup=N > 0`` adds
    ``vae_tf.callbacks.KLWarmup(epochs=N)``.

    ``examples_per_second`` counts training images over the training phases of epochs 2..n
    (:class:`~vae_tf.callbacks.EpochTimer`; epoch 1 also compiles); ``seconds`` is the whole ``fit`` wall-clock,
    validation and compilation included. ``jit_compile`` goes to ``VAE.compile`` ("auto": XLA for
    MLPs, none for networks with convolutions, see ``VAE.prefers_xla``): XLA compilation costs tens
    of seconds on a CPU, worth it only for long runs; ``precision`` too (``"auto"``: bfloat16 conv networks
    where the CPU computes it natively).

    ``minutes``: a wall-clock budget for the whole ``fit`` (:class:`~vae_tf.callbacks.EpochTimer`): training stops
    at the first step past it, inside an epoch if need be (Keras validates that partial epoch), so ``epochs``
    becomes a maximum; ``epochs_trained`` counts a cut epoch by its share of steps.
    """
    x_train, x_val, _, train_options = splits
    train = make_dataset(x_train, batch_size, shuffle=True, seed=seed, **train_options)
    val = make_dataset(x_val, batch_size, shuffle=False)
    total_steps = epochs * math.ceil(len(x_train) / batch_size)
    optimizer = keras.optimizers.Adam(learning_rate_schedule(lr_schedule, learning_rate, total_steps))
    model.compile(optimizer=optimizer, loss=build_loss(config, x_train.shape[1:]), jit_compile=jit_compile,
                  precision=precision)
    callbacks = [*callbacks, *([KLWarmup(epochs=kl_warmup)] if kl_warmup else [])]
    timer = EpochTimer(None if minutes is None else 60.0 * check_positive_number(minutes, "minutes"))
    start = time.perf_counter()
    history = model.fit(train, validation_data=val, epochs=epochs, verbose=verbose,
                        callbacks=[timer, *callbacks], shuffle=False)
    seconds = time.perf_counter() - start
    train_seconds = sum(timer.seconds)
    epochs_run = len(timer.seconds)
    # Throughput in the steady state: the first epoch also traces (and with XLA compiles) the step.
    steady = slice(1, None) if epochs_run > 1 else slice(None)
    steady_seconds, steady_epochs = sum(timer.seconds[steady]), sum(timer.fractions[steady])
    return TrainingResult(
        history={k: [float(v) for v in vs] for k, vs in history.history.items()},
        seconds=seconds,
        train_seconds=train_seconds,
        examples_per_second=len(x_train) * steady_epochs / steady_seconds if steady_seconds > 0 else float("nan"),
        epochs_run=epochs_run,
        elapsed_seconds=[float(t) for t in timer.elapsed],
        stopped_by_budget=timer.stopped_by_budget,
        epochs_trained=timer.epochs_trained,
    )


def save_model_atomically(model, path):
    """``model.save(path)`` through a temporary file in the same directory (:mod:`vae_tf.atomic_files`).

    ``path`` holds either the previous model or the complete new one, never a partial zip, whenever
    the process dies; the file gets the user's umask, as ``open()`` would give it.
    """
    path = os.fspath(path)
    if not path.endswith(".keras"):
        raise InvalidInputError(f"A Keras model file must end in .keras, got {path!r}.")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_path(path, suffix=".keras") as tmp:
        model.save(tmp, overwrite=True)
    return path


def backed_up_epoch(backup_dir):
    """Epochs already completed according to a ``BackupAndRestore`` directory (0 when none)."""
    meta = os.path.join(os.fspath(backup_dir), "training_metadata.json")
    if not os.path.exists(meta):
        return 0
    with open(meta) as f:
        # Keras stores the index of the last finished epoch, which is the next epoch's 0-based index.
        return int(json.load(f)["epoch"])
