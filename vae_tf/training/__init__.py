"""Training kept apart from the model: ``fit`` of a configuration with progress and timing, the splits it trains
on, safe saving and resuming (``trainer``), and learning-rate decay (``schedules``)."""

from vae_tf.training.schedules import DecaySchedule, LR_SCHEDULES, learning_rate_schedule
from vae_tf.training.trainer import (Splits, TEST_SEED_OFFSET, TrainingResult, backed_up_epoch, fit_vae, prepare_splits,
                                     save_model_atomically)

__all__ = ["LR_SCHEDULES", "TEST_SEED_OFFSET", "DecaySchedule", "Splits", "TrainingResult", "backed_up_epoch", "fit_vae",
           "learning_rate_schedule", "prepare_splits", "save_model_atomically"]
