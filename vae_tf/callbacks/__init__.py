"""Keras callbacks for VAE training, one module each.

    BetaSchedule(fn, unit="epoch"|"step")    beta = fn(epoch or global step)        (beta_schedule.py)
    KLWarmup(epochs=N) | KLWarmup(steps=N)   beta rises linearly from 0 to beta_target   (kl_warmup.py)
    linear_warmup, cyclical_annealing        schedules as functions of t          (beta_functions.py)
    ImageSummaries(log_dir, x)               reconstructions and samples as TensorBoard images (image_summaries.py)
    LogBeta                                  beta in each epoch's logs (VAE.fit adds it)  (beta_logger.py)
    StepCountingProgbarLogger                the progress bar counting the steps that ran (step_counting_progbar.py)
    EpochTimer                               seconds of each epoch's training phase  (epoch_timer.py)
"""

from vae_tf.callbacks.beta_functions import cyclical_annealing, linear_warmup
from vae_tf.callbacks.beta_logger import LogBeta
from vae_tf.callbacks.beta_schedule import BetaSchedule
from vae_tf.callbacks.epoch_timer import EpochTimer
from vae_tf.callbacks.image_summaries import ImageSummaries
from vae_tf.callbacks.kl_warmup import KLWarmup
from vae_tf.callbacks.step_counting_progbar import StepCountingProgbarLogger
from vae_tf.image_grid import image_grid

__all__ = ["BetaSchedule", "EpochTimer", "ImageSummaries", "KLWarmup", "LogBeta", "StepCountingProgbarLogger",
           "cyclical_annealing", "image_grid", "linear_warmup"]
