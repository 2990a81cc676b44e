"""Reconstruction terms of the ELBO as Keras losses.

All three sum over the event dimensions and average over the batch, so the
value is in nats per example and sits on the same scale as the KL term.
"""

import math

import tensorflow as tf
import tensorflow_probability as tfp
import keras

from .base import DistributionLoss, check_same_shape, check_unit_interval, is_distribution, sum_over_event_dims

tfd = tfp.distributions

_LOG_2PI = math.log(2.0 * math.pi)


@keras.saving.register_keras_serializable(package="losses")
class NegativeLogLikelihood(DistributionLoss):
    r"""Negative log-likelihood of the targets under the predicted distribution.

    Formula, per example::

        loss(x, p) = -log p(x)

    .. math::

        \ell(x, p) = -\log p(x)

    where ``p`` is ``y_pred``, any TFP distribution (``Independent`` sums the
    event dimensions; any batch dimensions beyond the first are summed too).
    For ``Independent(Normal(mu, sigma))`` over D values this is::

        sum_d (x_d - mu_d)^2 / (2 sigma_d^2) + sum_d log sigma_d + (D/2) log 2 pi

    .. math::

        \sum_{d=1}^{D} \frac{(x_d - \mu_d)^2}{2\sigma_d^2} + \sum_{d=1}^{D} \log\sigma_d + \frac{D}{2}\log 2\pi
    """

    def __init__(self, name="negative_log_likelihood", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def per_example(self, y_true, y_pred):
        if not is_distribution(y_pred):
            raise TypeError(
                f"{self.name}: y_pred must be a TFP distribution (it has log_prob); got a "
                f"{type(y_pred).__name__}. For a plain mean use ScaledMSE or BinaryCrossentropy."
            )
        event = y_pred.batch_shape.concatenate(y_pred.event_shape)
        if not y_true.shape.is_compatible_with(event):
            raise ValueError(
                f"{self.name}: y_true has shape {y_true.shape} but the distribution is over "
                f"{event} (batch_shape {y_pred.batch_shape} + event_shape {y_pred.event_shape})."
            )
        if _bernoulli_logits(y_pred) is not None:
            # Without validate_args TFP evaluates a Bernoulli at 255 or -1 and returns a number.
            check_unit_interval(y_true, self.name)
        return sum_over_event_dims(-y_pred.log_prob(y_true))


@keras.saving.register_keras_serializable(package="losses")
class ScaledMSE(DistributionLoss):
    r"""Squared error scaled to be a Gaussian negative log-likelihood.

    Formula, per example over its D values, with ``mu`` the prediction (the
    distribution's ``mean()`` when ``y_pred`` is a distribution)::

        loss = sum_d (x_d - mu_d)^2 / (2 sigma^2)                    (include_constant=False)
        loss = sum_d (x_d - mu_d)^2 / (2 sigma^2) + D log sigma + (D/2) log(2 pi)
                                                                      (include_constant=True)

    .. math::

        \ell(x, \mu) &= \sum_{d=1}^{D} \frac{(x_d - \mu_d)^2}{2\sigma^2}
        \qquad \text{(include_constant=False)} \\
        \ell(x, \mu) &= \sum_{d=1}^{D} \frac{(x_d - \mu_d)^2}{2\sigma^2} + D\log\sigma + \frac{D}{2}\log 2\pi
        \qquad \text{(include_constant=True)}

    With the constant it equals ``-log N(x; mu, sigma^2 I)`` exactly; without it
    the gradient is the same. Its gradient in ``mu`` is ``(mu - x) / sigma^2``.
    Keras' ``"mse"`` is this loss times ``2 sigma^2 / D`` — a hidden
    ``beta = D / (2 sigma^2)`` on the KL term of a VAE.

    Args:
        sigma: the fixed standard deviation of the Gaussian decoder, > 0.
        include_constant: add ``D log sigma + (D/2) log 2 pi``.
    """

    def __init__(self, sigma=1.0, include_constant=False, name="scaled_mse", reduction="sum_over_batch_size", dtype=None):
        try:
            sigma = float(sigma)
        except (TypeError, ValueError):
            raise ValueError(f"ScaledMSE: sigma must be a finite number > 0, got {sigma!r}.") from None
        if not sigma > 0 or not math.isfinite(sigma):
            raise ValueError(f"ScaledMSE: sigma must be a finite number > 0, got {sigma!r}.")
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.sigma = sigma
        self.include_constant = bool(include_constant)

    def per_example(self, y_true, y_pred):
        mean = y_pred.mean() if is_distribution(y_pred) else y_pred
        mean = tf.cast(mean, y_true.dtype)
        check_same_shape(y_true, mean, self.name)
        sq = sum_over_event_dims(tf.math.squared_difference(y_true, mean))
        loss = sq * (0.5 / self.sigma**2)
        if self.include_constant:
            d = tf.cast(tf.reduce_prod(tf.shape(y_true)[1:]), loss.dtype)
            loss = loss + d * (math.log(self.sigma) + 0.5 * _LOG_2PI)
        return loss

    def get_config(self):
        return {**super().get_config(), "sigma": self.sigma, "include_constant": self.include_constant}


def _bernoulli_logits(dist):
    """Logits of a (possibly ``Independent``-wrapped) Bernoulli or continuous Bernoulli, else None."""
    while isinstance(dist, tfd.Independent):
        dist = dist.distribution
    if isinstance(dist, (tfd.Bernoulli, tfd.ContinuousBernoulli)):
        return dist.logits_parameter()
    return None


@keras.saving.register_keras_serializable(package="losses")
class BinaryCrossentropy(DistributionLoss):
    r"""Binary cross-entropy summed over the event dimensions.

    Formula, per example, with ``l`` the logits and ``p = sigmoid(l)``::

        loss = -sum_d [x_d log p_d + (1 - x_d) log(1 - p_d)]
             =  sum_d [softplus(l_d) - x_d l_d]

    .. math::

        \ell(x, l) = -\sum_{d=1}^{D} \big[x_d \log p_d + (1 - x_d)\log(1 - p_d)\big]
        = \sum_{d=1}^{D} \big[\operatorname{softplus}(l_d) - x_d l_d\big]

    For binary ``x`` this is exactly ``-log Independent(Bernoulli(l)).prob(x)``.
    For grey ``x`` in (0, 1) it is not a normalised likelihood: the continuous
    Bernoulli adds the missing ``log C(p)``.

    With a Bernoulli (or continuous Bernoulli) distribution as ``y_pred`` its
    logits are used directly, never ``log(sigmoid(.))``. With a tensor,
    ``from_logits`` says whether it holds logits or probabilities (clipped to
    ``[1e-7, 1 - 1e-7]`` as Keras does).

    Targets outside [0, 1] raise a ``ValueError``.
    """

    def __init__(self, from_logits=False, name="binary_crossentropy", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits = bool(from_logits)

    def per_example(self, y_true, y_pred):
        if is_distribution(y_pred):
            logits = _bernoulli_logits(y_pred)
            if logits is None:
                logits = _probs_to_logits(tf.cast(y_pred.mean(), y_true.dtype))
        elif self.from_logits:
            logits = y_pred
        else:
            logits = _probs_to_logits(y_pred)
        logits = tf.cast(logits, y_true.dtype)
        check_same_shape(y_true, logits, self.name)
        check_unit_interval(y_true, self.name)
        return sum_over_event_dims(tf.nn.sigmoid_cross_entropy_with_logits(labels=y_true, logits=logits))

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits}


def _probs_to_logits(p, eps=1e-7):
    p = tf.clip_by_value(p, eps, 1.0 - eps)
    return tf.math.log(p) - tf.math.log1p(-p)
