"""``vae_tf.compare``: train one VAE per loss on the same data and budget, and report what the loss changes."""

from vae_tf.compare.configs import DEFAULT_CONFIGS, resolve_configs
from vae_tf.compare.runner import compare, run_compare

__all__ = ["DEFAULT_CONFIGS", "compare", "resolve_configs", "run_compare"]
