"""Loading the ``.keras`` file a command is given: registered classes, a clear one-line error for a bad file."""

import os

from vae_tf.cli.command_errors import reading_model_file
from vae_tf.errors import UserInputError


def load_vae(path):
    """The model saved at ``path``; :class:`~vae_tf.errors.UserInputError` naming the file when it cannot be loaded."""
    if not os.path.isfile(path):
        raise UserInputError(f"Model file {path!r} does not exist.")
    import keras

    from vae_tf.serializables import register_all

    register_all()
    with reading_model_file(path):
        return keras.saving.load_model(path)
