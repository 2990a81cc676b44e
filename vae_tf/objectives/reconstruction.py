"""The reconstruction term: the loss given to ``compile`` applied to ``p(x|z)``.

The package's losses (``losses.NegativeLogLikelihood``, ``ScaledMSE``, ``BinaryCrossentropy``)
receive the decoder distribution; any other Keras loss receives its mean.
"""

import tensorflow as tf
import keras

import losses
from losses.reduction import reduce_per_example


class KerasLossOnMean:
    """Adapts a Keras loss (``"mse"``, a function or a ``keras.losses.Loss``) to receive ``p.mean()``.

    Keras' string and function losses average over every value, as Keras does:
    ``"mse"`` is ``mean_d (x_d - mu_d)^2`` per example.
    """

    accepts_distribution = False

    def __init__(self, loss):
        self.loss = loss
        self.fn = keras.losses.get(loss) if isinstance(loss, str) else loss
        if not callable(self.fn):
            raise ValueError(f"Unknown loss {loss!r}.")

    def __call__(self, y_true, px, sample_weight=None):
        mean = tf.cast(px.mean(), y_true.dtype)
        if isinstance(self.fn, keras.losses.Loss):
            return self.fn(y_true, mean, sample_weight)
        values = tf.convert_to_tensor(self.fn(y_true, mean))
        axes = tf.range(1, tf.rank(values))
        return reduce_per_example(tf.reduce_mean(values, axis=axes), sample_weight)


def reconstruction_loss_for(loss):
    """The callable ``(target, px, sample_weight) -> scalar`` for the loss given to ``compile``."""
    if loss is None:
        return losses.NegativeLogLikelihood()
    if getattr(loss, "accepts_distribution", False):
        return loss
    return KerasLossOnMean(loss)


def reconstruction_term(loss, target, px, target_flat, px_flat, sample_weight):
    """The reduced reconstruction loss; the package's losses get the flat event view (same value, faster)."""
    if getattr(loss, "accepts_distribution", False):
        return loss(target_flat, px_flat, sample_weight)
    return loss(target, px, sample_weight)


def check_log_density_loss(loss, likelihood):
    """Raises ``ValueError`` unless ``loss`` is ``-log p(x|z)`` of ``likelihood`` up to a constant.

    Importance weights ``p(x|z) p(z) / q(z|x)`` need the likelihood itself: a loss that is only
    proportional to it (Keras' ``"mse"``, which is ``2 sigma^2 / D`` times the Gaussian NLL) would
    weight the samples wrongly. Accepted: ``NegativeLogLikelihood`` with any likelihood;
    ``BinaryCrossentropy`` with a Bernoulli decoder (exact for binary x); ``ScaledMSE(sigma)``
    with a Gaussian decoder of the same fixed sigma (the NLL up to ``D log sigma + D/2 log 2pi``).
    """
    from vae_tf.layers import IndependentBernoulli, IndependentNormal

    if isinstance(loss, losses.NegativeLogLikelihood):
        return
    if isinstance(loss, losses.BinaryCrossentropy) and isinstance(likelihood, IndependentBernoulli):
        return
    if isinstance(loss, losses.ScaledMSE) and isinstance(likelihood, IndependentNormal):
        if not isinstance(likelihood.scale, str) and abs(likelihood.scale - loss.sigma) <= 1e-6 * loss.sigma:
            return
        raise ValueError(
            f"objective='iwae' needs the reconstruction loss to be -log p(x|z) up to a constant: "
            f"ScaledMSE(sigma={loss.sigma:g}) is that only for IndependentNormal(scale={loss.sigma:g}), but the "
            f"likelihood has scale={likelihood.scale!r}. Use losses.NegativeLogLikelihood().")
    if isinstance(loss, KerasLossOnMean):
        name = f"Keras' {loss.loss!r}" if isinstance(loss.loss, str) else f"the Keras loss {loss.loss!r}"
    else:
        name = type(loss).__name__
    raise ValueError(
        f"objective='iwae' needs the reconstruction loss to be -log p(x|z) up to a constant, and {name} "
        f"with the {type(likelihood).__name__} decoder is not (the importance weights would be wrong). "
        "Use losses.NegativeLogLikelihood(), which works with every likelihood.")
