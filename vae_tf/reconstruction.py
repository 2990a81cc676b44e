"""The reconstruction term: the loss given to ``compile`` as the objectives call it, what ``compile`` checks of it,
and how a model whose loss trained only its decoder's mean is scored.

The package's losses receive the decoder distribution ``p(x|z)``, any other Keras loss its mean
(:class:`KerasLossOnMean`). :func:`check_log_density_loss` (the IWAE objective needs ``-log p(x|z)`` itself) and
:func:`check_loss_trains_scale` (a loss that leaves a learned sigma untrained) run at ``compile``;
:func:`scored_likelihood` is the one way every score (``reconstruction_nll``, the ELBO, IWAE, bits/dim) takes
``p(x|z)``.
"""

import math
import warnings

import keras
import numpy as np
import tensorflow as tf

from vae_tf import losses
from vae_tf.errors import InvalidInputError
from vae_tf.layers import IndependentNormal
from vae_tf.layers.gaussian import GaussianParameterLayer
from vae_tf.losses import reduce_per_example
from vae_tf.support import BINARY, support_of


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


def reconstruction_term(loss, target, px, target_flat, px_flat, sample_weight, log_px=None):
    """The reduced reconstruction loss; the package's losses get the flat event view (same value, faster).

    With ``log_px``, ``log p(x|z)`` of ``px`` itself per example, already computed, ``NegativeLogLikelihood`` in a
    compiled step is ``reduce(-log_px)``: the same number without evaluating ``log p`` a second time. XLA merges two
    equal evaluations of most decoders, not ``FactoredLevelCategorical``'s chunked loop, which would run twice. Eager
    calls keep the loss's own checks (its target range check runs only eagerly).
    """
    if log_px is not None and type(loss) is losses.NegativeLogLikelihood and not tf.executing_eagerly():
        with tf.name_scope(loss.name):
            return reduce_per_example(-log_px, sample_weight, loss.reduction)
    if getattr(loss, "accepts_distribution", False):
        return loss(target_flat, px_flat, sample_weight)
    return loss(target, px, sample_weight)


def loss_name(loss):
    """The loss as messages name it: ``ScaledMSE(sigma=0.1)``, ``Keras' 'mse'``, ``NegativeLogLikelihood``."""
    if isinstance(loss, KerasLossOnMean):
        return f"Keras' {loss.loss!r}" if isinstance(loss.loss, str) else f"the Keras loss {loss.loss!r}"
    if isinstance(loss, losses.ScaledMSE):
        return f"ScaledMSE(sigma={loss.sigma:g})"
    return type(loss).__name__


def keras_mse_implied_sigma(event_shape):
    """``sqrt(D / 2)``: Keras' ``mean_d (x_d - mu_d)^2`` equals ``sum_d (x_d - mu_d)^2 / (2 sigma^2)`` at this sigma."""
    return math.sqrt(int(np.prod(event_shape)) / 2.0)


def is_keras_mse(loss):
    """True for Keras' mean squared error given to ``compile`` (``"mse"``, the function, ``MeanSquaredError()``):
    ``mean_d (x_d - mu_d)^2`` per example, whatever the reduction over the batch."""
    fn = getattr(loss, "fn", None)
    return isinstance(loss, KerasLossOnMean) and (
        fn is keras.losses.mean_squared_error or getattr(fn, "fn", None) is keras.losses.mean_squared_error)


def sigma_the_loss_implies(loss, event_shape):
    """The sigma of the Gaussian whose negative log-likelihood ``loss`` is, up to a constant and a positive factor:
    ``ScaledMSE(sigma)``: ``sigma``; Keras' mean squared error: ``sqrt(D / 2)`` (:func:`keras_mse_implied_sigma`);
    None for any other loss."""
    if isinstance(loss, losses.ScaledMSE):
        return float(loss.sigma)
    if is_keras_mse(loss):
        return keras_mse_implied_sigma(event_shape)
    return None


#: Losses that read only the decoder's mean (``p.mean()``), never its sigma.
MEAN_ONLY_LOSSES = (losses.ScaledMSE, losses.BinaryCrossentropy, KerasLossOnMean)


def check_loss_trains_scale(loss, likelihood):
    """The sigma the model must be scored at when ``loss`` trains only the mean of a Gaussian whose sigma is a
    parameter (``scale="learned"`` or ``"per_pixel"``), else None; in that case also a one-line ``UserWarning``.

    Such a loss gives the layer's sigma no gradient (Keras: "Gradients do not exist for variables
    [.../log_scale]"): the sigma stays at its initial value, and a likelihood taken at it says nothing about the
    model. Rule, one for every score (the ``reconstruction_nll`` metric, the ELBO, IWAE and bits/dim, through
    :func:`scored_likelihood`): the model is scored at the sigma the loss implies
    (:func:`sigma_the_loss_implies`), the Gaussian whose negative ELBO training minimised (up to a constant and a
    factor), chosen without looking at test data; ``vae_tf.compare``'s optimal sigma ``sqrt(test MSE)`` is a
    separate column. A mean-only loss that implies no sigma (``"mae"``) leaves the scores at the untrained sigma,
    and the warning says so.
    """
    if not (isinstance(likelihood, GaussianParameterLayer) and isinstance(likelihood.scale, str)
            and isinstance(loss, MEAN_ONLY_LOSSES)):
        return None
    sigma = sigma_the_loss_implies(loss, likelihood.event_shape)
    layer = f"{type(likelihood).__name__}(scale={likelihood.scale!r})"
    kind = "learned" if likelihood.scale == "learned" else "per-pixel"
    if sigma is None:
        warnings.warn(
            f"{loss_name(loss)} trains only the mean of {layer}: the layer's {kind} sigma gets no gradient and is not "
            f"trained, and this loss implies no Gaussian sigma, so the model's likelihood numbers (reconstruction_nll, "
            f"ELBO, bits/dim) are at that untrained sigma; use losses.NegativeLogLikelihood() to learn sigma, or "
            f"ScaledMSE(sigma) with the layer built with scale=sigma.", UserWarning, stacklevel=3)
        return None
    implied = (f"sqrt(D/2) = {sigma:.4g} for the D = {likelihood.event_size} values it averages over"
               if is_keras_mse(loss) else f"{sigma:g}")
    warnings.warn(
        f"{loss_name(loss)} trains only the mean of {layer}: it is the Gaussian negative log-likelihood at sigma = "
        f"{implied} (up to a constant and a factor), so the layer's {kind} sigma gets no gradient and is not trained; "
        f"the model is scored (reconstruction_nll, ELBO, bits/dim) at sigma = {sigma:.4g}. To learn sigma use "
        f"losses.NegativeLogLikelihood(); to keep this loss, build the layer with scale={sigma:.4g}.",
        UserWarning, stacklevel=3)
    return sigma


def scored_likelihood(model, px):
    """``p(x|z)`` as ``model`` is scored: ``px`` itself, or, when ``compile`` found that the loss trains only the
    decoder's mean (``model.scored_sigma``, :func:`check_loss_trains_scale`), the likelihood layer's kind of Gaussian
    at the decoder's mean ``px.mean()`` with that fixed sigma (``at_fixed_scale``). ``px`` may be the flat event
    view."""
    sigma = getattr(model, "scored_sigma", None)
    return px if sigma is None else model.likelihood.at_fixed_scale(px.mean(), sigma)


def check_log_density_loss(loss, likelihood):
    """Raises :class:`~vae_tf.errors.InvalidInputError` (a ``ValueError``) unless ``loss`` is ``-log p(x|z)`` of ``likelihood`` up to a constant.

    Importance weights ``p(x|z) p(z) / q(z|x)`` need the likelihood itself: a loss that is only
    proportional to it (Keras' ``"mse"``, which is ``2 sigma^2 / D`` times the Gaussian NLL) would
    weight the samples wrongly. Accepted: ``NegativeLogLikelihood`` with any likelihood;
    ``BinaryCrossentropy`` with a Bernoulli decoder (exact for binary x); ``ScaledMSE(sigma)``
    with a Gaussian decoder of the same fixed sigma (the NLL up to ``D log sigma + D/2 log 2pi``).
    """
    if isinstance(loss, losses.NegativeLogLikelihood):
        return
    if isinstance(loss, losses.BinaryCrossentropy) and support_of(likelihood).kind == BINARY:
        return
    if isinstance(loss, losses.ScaledMSE) and isinstance(likelihood, IndependentNormal):
        if not isinstance(likelihood.scale, str) and abs(likelihood.scale - loss.sigma) <= 1e-6 * loss.sigma:
            return
        raise InvalidInputError(
            f"objective='iwae' needs the reconstruction loss to be -log p(x|z) up to a constant: "
            f"ScaledMSE(sigma={loss.sigma:g}) is that only for IndependentNormal(scale={loss.sigma:g}), but the "
            f"likelihood has scale={likelihood.scale!r}. Use losses.NegativeLogLikelihood().")
    raise InvalidInputError(
        f"objective='iwae' needs the reconstruction loss to be -log p(x|z) up to a constant, and {loss_name(loss)} "
        f"with the {type(likelihood).__name__} decoder is not (the importance weights would be wrong). "
        "Use losses.NegativeLogLikelihood(), which works with every likelihood.")
