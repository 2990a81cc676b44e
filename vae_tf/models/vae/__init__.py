from vae_tf.models.vae.model import VAE, diagonal_gaussian_kl, standard_normal_prior

__all__ = ["VAE", "diagonal_gaussian_kl", "standard_normal_prior"]
