"""Saving that never leaves a half-written model, and resuming an interrupted ``fit``."""

import json
import os
import tempfile

def save_model_atomically(model, path):
    """``model.save(path)`` through a temporary file in the same directory and ``os.replace``.

    ``os.replace`` is atomic on one file system, so ``path`` holds either the previous
    model or the complete new one, never a partial zip, whenever the process dies.
    """
    path = os.fspath(path)
    if not path.endswith(".keras"):
        raise ValueError(f"A Keras model file must end in .keras, got {path!r}.")
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".keras")
    os.close(fd)
    try:
        model.save(tmp, overwrite=True)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def backed_up_epoch(backup_dir):
    """Epochs already completed according to a ``BackupAndRestore`` directory (0 when none)."""
    meta = os.path.join(os.fspath(backup_dir), "training_metadata.json")
    if not os.path.exists(meta):
        return 0
    with open(meta) as f:
        # Keras stores the index of the last finished epoch, which is the next epoch's 0-based index.
        return int(json.load(f)["epoch"])
