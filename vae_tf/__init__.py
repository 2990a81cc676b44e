"""vae-tf: variational autoencoders in Keras 3 whose decoders are TFP distributions.

``import vae_tf`` imports TensorFlow, Keras and TensorFlow Probability and registers the package's Keras
classes (so ``keras.saving.load_model`` finds them), as any Keras library does; it leaves the process's
stderr, warnings and import system alone. The public API is ``__all__``: the models :class:`~vae_tf.VAE` and
:class:`~vae_tf.HierarchicalVAE` (spatial latents in a top-down hierarchy, its :class:`~vae_tf.HierarchicalVAEConfig`),
:func:`~vae_tf.compare`, :func:`~vae_tf.export_saved_model`, the ``losses`` package, and the subpackages below.
"""

import importlib.util
import pathlib
import sys


def _shipped_losses():
    """The ``losses`` package installed beside this one, found by its path, so that a user's own ``losses.py``
    earlier on ``sys.path`` cannot stand in for it. It is ``vae_tf.losses`` and, unless another ``losses`` is
    in the way, also the top-level ``losses``: the same module objects either way."""
    directory = pathlib.Path(__file__).resolve().parent.parent / "losses"
    for name in ("losses", "vae_tf.losses"):
        module = sys.modules.get(name)
        if module is not None and pathlib.Path(module.__file__).resolve().parent == directory:
            return sys.modules.setdefault("vae_tf.losses", module)
    found = importlib.util.find_spec("losses") if "losses" not in sys.modules else None
    ours = found is not None and pathlib.Path(found.origin).resolve().parent == directory
    spec = importlib.util.spec_from_file_location("losses" if ours else "vae_tf.losses", directory / "__init__.py",
                                                  submodule_search_locations=[str(directory)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = sys.modules["vae_tf.losses"] = module
    spec.loader.exec_module(module)
    return module


losses = _shipped_losses()  # Keras losses (NegativeLogLikelihood, ScaledMSE, BinaryCrossentropy)

# The public API, imported eagerly (the order matters only in that `losses` comes first).
from vae_tf import (callbacks, compression, data, distributions, evaluation, layers, networks, objectives, support,
                    training)
from vae_tf.comparison import compare
from vae_tf.distributions import diagonal_gaussian_kl, standard_normal_prior
from vae_tf.evaluation import bits_per_dim
from vae_tf.export import export_saved_model
from vae_tf.models import VAE, HierarchicalVAE, HierarchicalVAEConfig

__version__ = "0.1.0"

__all__ = [
    "HierarchicalVAE", "HierarchicalVAEConfig", "VAE", "bits_per_dim", "callbacks", "compare", "compression", "data", "diagonal_gaussian_kl", "distributions",
    "evaluation", "export_saved_model", "layers", "losses", "networks", "objectives", "standard_normal_prior",
    "support", "training",
]
