"""Distribution-level building blocks: the standard normal prior and its KL, and the sampling and
log-density fast paths the objectives use."""

from vae_tf.distributions.fast_paths import flat_event_view, reparameterized_sample
from vae_tf.distributions.gaussian import diagonal_gaussian_kl, standard_normal_prior

__all__ = ["diagonal_gaussian_kl", "flat_event_view", "reparameterized_sample", "standard_normal_prior"]
