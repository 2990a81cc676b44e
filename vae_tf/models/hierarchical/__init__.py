"""The hierarchical VAE family: spatial Gaussian latents, a bottom-up path and a top-down hierarchy.

    config   HierarchicalVAEConfig: latent layers, widths, cells, free bits, update skipping (plain data)
    cells    ResidualCell, GaussianHead, LatentLayer, LayerTerms: the blocks; the Gaussian KL and log-density per unit
    updates  apply_unless_outlier: skipping outlier updates (VDVAE)
    model    HierarchicalVAE: the Keras model (training, ELBO, IWAE, sampling, per-layer parameters for coding)
"""

from vae_tf.models.hierarchical.cells import GaussianHead, LatentLayer, LayerTerms, ResidualCell, gaussian_kl, log_normal
from vae_tf.models.hierarchical.config import HierarchicalVAEConfig
from vae_tf.models.hierarchical.model import HierarchicalVAE

__all__ = ["GaussianHead", "HierarchicalVAE", "HierarchicalVAEConfig", "LatentLayer", "LayerTerms", "ResidualCell",
           "gaussian_kl", "log_normal"]
