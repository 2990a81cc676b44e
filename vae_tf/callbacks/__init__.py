"""Keras callbacks for VAE training: KL-weight schedules and TensorBoard pictures.

    KLWarmup(epochs=N) | KLWarmup(steps=N)   beta rises linearly from 0 to the model's beta_target
    BetaSchedule(fn, unit="epoch"|"step")    beta = fn(epoch or global step), e.g. cyclical_annealing(...)
    ImageSummaries(log_dir, x)               reconstructions and samples as TensorBoard images, every epoch
"""

from vae_tf.callbacks.beta_schedules import BetaSchedule, KLWarmup, cyclical_annealing, linear_warmup
from vae_tf.callbacks.image_summaries import ImageSummaries, image_grid

__all__ = ["BetaSchedule", "ImageSummaries", "KLWarmup", "cyclical_annealing", "image_grid", "linear_warmup"]
