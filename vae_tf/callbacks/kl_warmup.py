"""KL warm-up (Bowman et al., 2016; Sønderby et al., 2016): ``beta`` rises linearly from 0 to the model's target."""

from vae_tf.argument_checks import check_positive_int
from vae_tf.callbacks.beta_schedule import BetaSchedule
from vae_tf.errors import InvalidInputError
from vae_tf.validation import check_beta


class KLWarmup(BetaSchedule):
    """KL warm-up: ``beta`` rises linearly from 0 to the model's ``beta_target``.

    ``KLWarmup(epochs=N)``: ``beta = beta_target * min(1, epoch / N)``, set at each epoch's
    start (0 in the first epoch, ``beta_target`` from epoch ``N`` on, 0-based).
    ``KLWarmup(steps=N)``: the same per training step, ``beta_target * min(1, step / N)``.
    ``beta`` overrides the end value.
    """

    def __init__(self, epochs=None, steps=None, beta=None):
        if (epochs is None) == (steps is None):
            raise InvalidInputError("KLWarmup needs exactly one of epochs=N or steps=N.")
        self.length = check_positive_int(epochs if steps is None else steps, "epochs" if steps is None else "steps")
        self.end = None if beta is None else check_beta(beta)
        super().__init__(self._warmup, unit="epoch" if steps is None else "step")

    def _warmup(self, t):
        end = self.end if self.end is not None else getattr(self.model, "beta_target", None)
        if end is None:
            raise TypeError(f"KLWarmup needs a vae_tf.VAE (a model with beta_target), got {type(self.model).__name__}.")
        return end * min(1.0, t / self.length)
