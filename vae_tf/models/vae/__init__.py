"""The variational autoencoder: the model, its configurations (the named ones ``vae-tf compare`` trains), builders."""

from vae_tf.models.vae.config import DEFAULT_CONFIGS, VAEConfig, build_loss, build_vae, resolve_configs
from vae_tf.models.vae.model import VAE

__all__ = ["DEFAULT_CONFIGS", "VAE", "VAEConfig", "build_loss", "build_vae", "resolve_configs"]
