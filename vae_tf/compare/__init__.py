"""``vae_tf.compare``: train one VAE per loss on the same data and budget, and report what the loss changes."""

import inspect
import sys
import types

from vae_tf.compare.runner import compare, run_compare
from vae_tf.models.vae.registry import DEFAULT_CONFIGS, resolve_configs

__all__ = ["DEFAULT_CONFIGS", "compare", "resolve_configs", "run_compare"]


class _CallableModule(types.ModuleType):
    """``vae_tf.compare`` is this package and, called, the :func:`compare` function (``vae_tf.compare(...)``).

    Importing any ``vae_tf.compare.*`` module binds the package to ``vae_tf.compare``; with a lazy
    ``vae_tf`` that can happen before the function is asked for, so the package itself must be callable.
    """

    def __call__(self, *args, **kwargs):
        return compare(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
__signature__ = inspect.signature(compare)
