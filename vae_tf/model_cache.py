"""Things built once per model and kept with it: its compiled functions, its coder.

A ``tf.function`` retraces for every new Python function object, so a compiled evaluation
pass must be built once per model and reused; the bits-back coder compiles two XLA programs
per (latent bits, batch size). Both live in the model's own ``__dict__`` (not as tracked Keras
attributes, so they are neither saved nor counted as layers) and go away with the model.
"""


def cached_for(model, key, build):
    """``model``'s value for ``key``, made by ``build()`` on the first call and kept with the model."""
    cache = model.__dict__.setdefault("_vae_tf_cache", {})
    if key not in cache:
        cache[key] = build()
    return cache[key]
