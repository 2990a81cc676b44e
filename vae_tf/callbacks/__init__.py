"""Keras callbacks for VAE training: KL-weight schedules, TensorBoard pictures, the progress bar, epoch timing.

    BetaSchedule(fn, unit="epoch"|"step")    beta = fn(epoch or global step)
    KLWarmup(epochs=N) | KLWarmup(steps=N)   BetaSchedule(linear_warmup(N, beta_target))
    linear_warmup, cyclical_annealing        schedules as functions of t
    ImageSummaries(log_dir, x)               reconstructions and samples as TensorBoard images (image_grid)
    StepCountingProgbarLogger                the progress bar counting the steps that ran (while Keras miscounts)
    EpochTimer(budget_seconds=None)          each epoch's seconds; with a budget, training stops at the first step past it
    EpochSpeed(report)                       the first epoch's time, and what a later one takes
"""

from vae_tf.callbacks.image_summaries import ImageSummaries, image_grid
from vae_tf.callbacks.kl_schedules import BetaSchedule, KLWarmup, cyclical_annealing, linear_warmup
from vae_tf.callbacks.progress import EpochSpeed, EpochTimer, StepCountingProgbarLogger

__all__ = ["BetaSchedule", "KLWarmup", "linear_warmup", "cyclical_annealing", "ImageSummaries", "image_grid",
           "StepCountingProgbarLogger", "EpochTimer", "EpochSpeed"]
