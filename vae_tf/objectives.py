"""Training objectives of a latent-variable model: the ELBO (with free bits) and the importance-weighted bound.

An objective maps a batch to :class:`ObjectiveTerms` (the scalar to minimise and what ``fit`` reports);
:func:`get_objective` builds one from a ``VAE``'s arguments::

    ELBO        -E_q[log p(x|z)] + beta KL(q || p), with optional free bits
    IWAEBound   -log (1/k) sum_i p(x|z_i) p(z_i)^beta / q(z_i|x)^beta

:func:`elbo_terms` is the one ELBO (training, evaluation and the exported model use it). The reconstruction
term is the loss given to ``compile``: the package's losses receive the decoder distribution, any other
Keras loss its mean.
"""

import dataclasses
import math
import warnings
from typing import Any, Callable, NamedTuple

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from vae_tf import losses
from vae_tf.errors import InvalidInputError, check_non_negative_number, check_positive_int
from vae_tf.layers import IndependentNormal
from vae_tf.layers.gaussian import GaussianParameterLayer
from vae_tf.losses import reduce_per_example, scale_for_replicas, sum_over_event_dims
from vae_tf.support import BINARY, support_of

tfd = tfp.distributions

#: Values of ``VAE(objective=...)``.
OBJECTIVES = ("elbo", "iwae")


def flat_event_view(px, x):
    """``(p', x')``: ``px`` and ``x`` with the event flattened to one axis, ``log p'(x') = log p(x)``.

    Why: likelihood layers reshape their parameters to the image shape, e.g.
    ``(28, 28, 1)``, and XLA on CPU vectorises element-wise work along the
    minor axis, here of size 1: TFP's Bernoulli log-density ran at ~18 ns per
    pixel on that layout against ~7 ns on ``(rows, 784)``. ``(px, x)`` come back
    unchanged unless ``px`` is ``Independent`` over an element-wise distribution
    whose parameters all have the full ``(rows, *event_shape)`` shape.
    """
    if not isinstance(px, tfd.Independent) or x.shape.rank is None or x.shape.rank <= 2:
        return px, x
    base = px.distribution
    if base.batch_shape.rank != x.shape.rank or base.event_shape.rank != 0:
        return px, x
    rows = tf.shape(x)[0]
    flat = {}
    for name in type(base).parameter_properties():
        value = base.parameters.get(name)
        if value is None:
            continue
        value = tf.convert_to_tensor(value)
        if value.shape.rank != x.shape.rank:
            return px, x
        flat[name] = tf.reshape(value, (rows, -1))
    return tfd.Independent(base.copy(**flat), reinterpreted_batch_ndims=1), tf.reshape(x, (rows, -1))


@dataclasses.dataclass
class ObjectiveTerms:
    """One batch's objective.

    Attributes:
        loss: the scalar minimised: this replica's share of the global batch mean
            (:func:`losses.reduce_per_example`), in nats per example.
        kl: ``KL(q(z|x) || p(z))`` per example, ``(batch,)``: the true KL, whatever the objective.
        reconstruction_nll: ``-log p(x|z)`` per example under the likelihood, ``(batch,)``.
        decoder_mean: a zero-argument callable giving the mean of ``p(x|z)`` for the batch,
            ``(batch, *event_shape)`` (computed only when compiled metrics ask for it).
    """

    loss: Any
    kl: Any
    reconstruction_nll: Any
    decoder_mean: Callable[[], Any]


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


def kl_per_unit(q, prior, z):
    """``KL(q(z_j|x) || p(z_j))`` per example and latent unit, shape ``(batch, latent_dim)``.

    Analytic when TFP registers the KL of the two factors (diagonal Gaussians), else the
    one-sample estimate ``log q(z_j|x) - log p(z_j)``. Summed over ``j`` it is the KL of
    ``q`` and ``p``, so both must factorise over units (``tfd.Independent`` over a scalar
    distribution); anything else raises ``ValueError``.
    """
    factors = []
    for name, dist in (("posterior q(z|x)", q), ("prior p(z)", prior)):
        base = getattr(dist, "distribution", None)
        if not (isinstance(dist, tfd.Independent) and dist.event_shape.rank == 1 and base.event_shape.rank == 0):
            raise InvalidInputError(f"free_bits needs a {name} that factorises over latent units "
                             f"(tfd.Independent over a scalar distribution), got {type(dist).__name__}.")
        factors.append(base)
    q_units, p_units = factors
    try:
        return tfd.kl_divergence(q_units, p_units)
    except NotImplementedError:
        return q_units.log_prob(z) - p_units.log_prob(z)


def free_bits_kl(kl_units, free_bits, sample_weight=None):
    """The KL term with free bits: ``sum_j max(lambda, (1/B) sum_i w_i KL_ij)``, divided by the replicas.

    Free bits (Kingma et al., 2016, "Improved variational inference with inverse autoregressive flow", eq. 15):
    each latent unit's batch-averaged KL is floored at ``lambda`` nats, so the optimiser gains nothing by pushing
    a unit's KL below ``lambda``, and units stay active instead of collapsing to the prior early in training.

    ``kl_units`` is ``(B, latent_dim)``; ``w_i`` are the sample weights (1 when absent). The
    mean is over this replica's batch, as Keras' ``"sum_over_batch_size"`` reduction is, and the
    result is divided by the number of replicas so SUM-all-reduced gradients average them.
    Below the floor a unit's KL gets no gradient.
    """
    if sample_weight is not None:
        kl_units = kl_units * tf.reshape(tf.cast(sample_weight, kl_units.dtype), (-1, 1))
    batch = tf.cast(tf.shape(kl_units)[0], kl_units.dtype)
    per_unit = tf.reduce_sum(kl_units, axis=0) / batch
    return scale_for_replicas(tf.reduce_sum(tf.maximum(per_unit, tf.cast(free_bits, kl_units.dtype))))


class ElboTerms(NamedTuple):
    """The terms of the ELBO at one latent sample per example (see :func:`elbo_terms`)."""

    px: Any            # p(x|z), the decoder distribution
    px_flat: Any       # p(x|z) on the flat (rows, D) event layout (``flat_event_view``)
    x_flat: Any        # x on that layout
    log_px: Any        # log p(x|z) per example, (batch,)
    kl: Any            # KL(q(z|x) || p(z)) per example, (batch,)

    @property
    def elbo(self):
        """``log p(x|z) - KL(q(z|x) || p(z))`` per example (``beta = 1``)."""
        return self.log_px - self.kl


def elbo_terms(model, x, q, z, training=None):
    """:class:`ElboTerms` of ``model`` at latent ``z`` drawn from ``q = q(z|x)``: per example, in nats::

        ELBO(x) = log p(x|z) - KL(q(z|x) || p(z)),     z ~ q(z|x)

    one sample; the KL is analytic when TFP registers it (``model.kl_divergence``). ``log p(x|z)`` is
    evaluated on the flat event layout (the same value, faster under XLA on CPU).
    """
    px = model.decode(z, training=training)
    px_flat, x_flat = flat_event_view(px, tf.cast(x, tf.float32))
    log_px = sum_over_event_dims(scored_likelihood(model, px_flat).log_prob(x_flat))
    return ElboTerms(px, px_flat, x_flat, log_px, model.kl_divergence(q, z))


class ELBO:
    """The negative ELBO with one reparameterised sample ``z ~ q(z|x)`` per example.

    Formula, averaged over the batch with the sample weights::

        loss = reconstruction(x, p(x|z)) + beta * KL(q(z|x) || p(z))

    with ``beta`` the model's KL-weight variable (1 gives the ELBO) and the reconstruction term
    the loss given to ``compile``. With ``free_bits = lambda > 0`` the KL term becomes
    ``sum_j max(lambda, mean_batch KL_j)`` over latent units ``j`` (:func:`free_bits_kl`); the
    reported ``kl`` stays the true KL.
    """

    name = "elbo"
    num_samples = 1

    def __init__(self, free_bits=0.0):
        self.free_bits = float(free_bits)

    def __call__(self, model, x, target, sample_weight=None, training=None):
        q = model.encode(x, training=training)
        z = model.sample_latent(q, x)
        terms = elbo_terms(model, target, q, z, training=training)
        reconstruction = reconstruction_term(model.reconstruction_loss, target, terms.px, terms.x_flat,
                                             terms.px_flat, sample_weight)
        beta = tf.cast(model.beta, terms.kl.dtype)
        if self.free_bits > 0:  # a Python branch: the default step traces no free-bits ops
            kl_term = beta * free_bits_kl(kl_per_unit(q, model.prior(), z), self.free_bits, sample_weight)
        else:
            kl_term = reduce_per_example(beta * terms.kl, sample_weight)
        return ObjectiveTerms(loss=reconstruction + kl_term, kl=terms.kl, reconstruction_nll=-terms.log_px,
                              decoder_mean=terms.px.mean)


def log_importance_weights(model, q, z, target, training=None, reconstruction_loss=None, beta=None):
    """``(log w, log p(x|z), p(x|z))`` for ``k`` latent samples per example.

    ``z`` is ``(k, batch, latent_dim)``; ``log w`` and ``log p(x|z)`` are ``(k, batch)``::

        log w_i = log p(x|z_i) + beta * (log p(z_i) - log q(z_i|x))

    ``beta=None`` is ``beta = 1`` (the IWAE bound itself). With ``reconstruction_loss`` (a
    ``losses`` loss that is ``-log p(x|z)`` up to a constant, see
    :func:`~vae_tf.objectives.check_log_density_loss`) its per-example value
    replaces ``-log p(x|z)`` in ``log w``. The decoder runs once on all ``k * batch`` rows, which
    ``p(x|z)`` is over.
    """
    k, batch = tf.shape(z)[0], tf.shape(z)[1]
    px = model.decode(tf.reshape(z, (k * batch, -1)), training=training)
    target = tf.cast(target, tf.float32)
    repeated = tf.reshape(tf.broadcast_to(target[None], tf.concat([[k], tf.shape(target)], 0)),
                          tf.concat([[-1], tf.shape(target)[1:]], 0))
    px_flat, target_flat = flat_event_view(px, repeated)
    log_px = tf.reshape(scored_likelihood(model, px_flat).log_prob(target_flat), (k, batch))
    log_likelihood = log_px
    if reconstruction_loss is not None and not isinstance(reconstruction_loss, losses.NegativeLogLikelihood):
        log_likelihood = -tf.reshape(reconstruction_loss.per_example(target_flat, px_flat), (k, batch))
    log_ratio = model.prior().log_prob(z) - q.log_prob(z)
    if beta is not None:
        log_ratio = tf.cast(beta, log_ratio.dtype) * log_ratio
    return log_likelihood + log_ratio, log_px, px


class IWAEBound:
    """The negative importance-weighted bound ``-L_k`` with ``k = num_samples >= 2``.

    Formula, per example, averaged over the batch with the sample weights::

        loss = -( logsumexp_i [log p(x|z_i) + beta (log p(z_i) - log q(z_i|x))] - log k )

    ``beta`` is the model's KL-weight variable (1: the IWAE bound; a warm-up lowers it).
    ``log p(x|z)`` comes from the loss given to ``compile``, which must be a log-density up to a
    constant. The reported ``kl`` is the analytic ``KL(q(z|x) || p(z))`` and
    ``reconstruction_nll`` the mean over the ``k`` samples of ``-log p(x|z_i)``.
    (``k = 1`` is the ELBO, which :func:`~vae_tf.objectives.get_objective` runs as :class:`ELBO`.)
    """

    name = "iwae"

    def __init__(self, num_samples):
        self.num_samples = int(num_samples)

    def __call__(self, model, x, target, sample_weight=None, training=None):
        q = model.encode(x, training=training)
        z = model.sample_latents(q, x, self.num_samples)
        log_w, log_px, px = log_importance_weights(model, q, z, target, training=training,
                                                   reconstruction_loss=model.reconstruction_loss, beta=model.beta)
        bound = tf.reduce_logsumexp(log_w, axis=0) - math.log(self.num_samples)
        batch = tf.shape(target)[0]

        def decoder_mean():
            mean = px.mean()
            return tf.reshape(mean, tf.concat([[self.num_samples, batch], tf.shape(mean)[1:]], 0))[0]

        return ObjectiveTerms(loss=reduce_per_example(-bound, sample_weight), kl=model.kl_divergence(q, z[0]),
                              reconstruction_nll=-tf.reduce_mean(log_px, axis=0), decoder_mean=decoder_mean)


def check_free_bits(free_bits):
    """Free bits as a finite float >= 0 (nats per latent unit)."""
    return check_non_negative_number(free_bits, "free_bits", "nats per latent unit")


def get_objective(objective="elbo", num_samples=1, free_bits=0.0):
    """The objective object for ``VAE(objective=, num_samples=, free_bits=)``.

    ``"iwae"`` with ``num_samples=1`` is the ELBO: the 1-sample bound *is* the ELBO, and it is
    computed as the ELBO is (analytic KL, the same compiled step), so ``k=1`` trains exactly as
    ``objective="elbo"`` does.

    Raises:
        InvalidInputError (a ValueError): an unknown objective, ``num_samples`` that is not a
            positive integer or is given with ``objective="elbo"``, negative ``free_bits``, or free
            bits with IWAE.
    """
    if objective not in OBJECTIVES:
        raise InvalidInputError(f"objective must be one of {OBJECTIVES}, got {objective!r}.")
    num_samples = check_positive_int(num_samples, "num_samples")
    free_bits = check_free_bits(free_bits)
    if objective == "elbo":
        if num_samples != 1:
            raise InvalidInputError(f"num_samples={num_samples} needs objective='iwae' (the ELBO uses one sample).")
        return ELBO(free_bits=free_bits)
    if free_bits > 0:
        raise InvalidInputError("free_bits applies to the ELBO's KL term; objective='iwae' has no separate KL term. "
                                "Use objective='elbo' with free_bits, or free_bits=0 with IWAE.")
    return ELBO() if num_samples == 1 else IWAEBound(num_samples)
