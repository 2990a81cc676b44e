"""Model families, one folder each."""

from vae_tf.models.vae import VAE

__all__ = ["VAE"]
