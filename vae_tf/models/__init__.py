"""Model families, one folder each (a model and the configuration object it is built from), on a shared base;
``vae_tf.models.families`` holds their names and builds any of them from a configuration."""

from vae_tf.models.base import LatentVariableModel
from vae_tf.models.families import MODEL_FAMILIES, build_model
from vae_tf.models.hierarchical import HierarchicalVAE, HierarchicalVAEConfig
from vae_tf.models.vae import VAE

__all__ = ["LatentVariableModel", "HierarchicalVAE", "HierarchicalVAEConfig", "MODEL_FAMILIES", "VAE", "build_model"]
