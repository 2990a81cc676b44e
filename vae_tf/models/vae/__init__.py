from vae_tf.distributions import diagonal_gaussian_kl, standard_normal_prior
from vae_tf.models.vae.model import VAE

__all__ = ["VAE", "diagonal_gaussian_kl", "standard_normal_prior"]
