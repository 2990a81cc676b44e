"""Training-loop glue kept apart from the model: fit with progress bars and timing, safe saving, resuming."""

from vae_tf.training.checkpointing import save_model_atomically
from vae_tf.training.trainer import TEST_SEED_OFFSET, Splits, TrainingResult, fit_vae, prepare_splits

__all__ = ["TEST_SEED_OFFSET", "Splits", "TrainingResult", "fit_vae", "prepare_splits", "save_model_atomically"]
