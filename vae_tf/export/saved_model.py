"""Writing a :class:`vae_tf.VAE` as a SavedModel that TensorFlow Serving loads."""

import os

import keras

from vae_tf.atomic_files import atomic_directory
from vae_tf.export.serving_graph import ServingGraph
from vae_tf.export.signatures import input_signatures
from vae_tf.models import VAE


def export_saved_model(model, path):
    """Write ``model`` as a SavedModel at ``path`` (a new directory) and return ``path``.

    For TensorFlow Serving, ``path`` is a version directory under the model's
    base path, e.g. ``models/vae/1``. The SavedModel is written to a temporary
    sibling directory and renamed into place, so a server watching the base
    path never sees a half-written version.

    Raises:
        TypeError: ``model`` is not a :class:`vae_tf.VAE`.
        FileExistsError: ``path`` exists and is not an empty directory
            (export a new version rather than overwrite one a server may be reading).
    """
    if not isinstance(model, VAE):
        raise TypeError(f"export_saved_model needs a vae_tf.VAE, got {type(model).__name__}.")
    path = os.fspath(path)
    if os.path.exists(path) and (not os.path.isdir(path) or os.listdir(path)):
        raise FileExistsError(
            f"{path} already exists and is not an empty directory; export to a new version directory "
            "(e.g. models/vae/2) instead of overwriting one a server may be reading."
        )
    if not model.built:  # e.g. restored from a .keras file that was saved before any call
        model.build((None,) + tuple(model.event_shape))

    graph = ServingGraph(model)
    archive = keras.export.ExportArchive()
    archive.track(model)
    # serving_default first: it is the signature TF Serving's REST API calls when none is named.
    for name, signature in input_signatures(model).items():
        archive.add_endpoint(name, getattr(graph, name), input_signature=signature)

    with atomic_directory(path) as staging:
        archive.write_out(staging, verbose=False)
    return path


