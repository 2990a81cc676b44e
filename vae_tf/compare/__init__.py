"""``vae_tf.compare``: train one VAE per loss on the same data and budget, and report what the loss changes."""

from vae_tf.compare.runner import compare, run_compare
from vae_tf.models.vae.registry import DEFAULT_CONFIGS, resolve_configs

__all__ = ["DEFAULT_CONFIGS", "compare", "resolve_configs", "run_compare"]
