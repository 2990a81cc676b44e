"""Registering the package's Keras-serializable classes, which ``keras.saving.load_model`` needs to find.

``import vae_tf`` is lazy (nothing heavy is imported until used), so the classes a ``.keras`` file
names (the VAE, its layers and networks, the losses, the learning-rate schedule) are registered by
:func:`register_all`: when Keras is imported after ``vae_tf`` (``vae_tf/__init__.py`` hooks that
import), when it already was, and by every command that loads a model.
"""

import importlib

#: Every module that defines a class registered with ``keras.saving.register_keras_serializable``.
MODULES = (
    "losses",
    "vae_tf.layers",
    "vae_tf.networks",
    "vae_tf.models",
    "vae_tf.training.schedules",
)


def register_all():
    """Imports :data:`MODULES` (each registers its classes when imported); cheap after the first call."""
    for name in MODULES:
        importlib.import_module(name)
