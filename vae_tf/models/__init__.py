"""Model families, one folder each (a model and the configuration object it is built from), on a shared base."""

from vae_tf.models.base import LatentVariableModel
from vae_tf.models.vae import VAE

__all__ = ["LatentVariableModel", "VAE"]
