"""Saving that never leaves a half-written model, and resuming an interrupted ``fit``."""

import json
import os

from vae_tf.atomic_files import atomic_path
from vae_tf.errors import InvalidInputError


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
