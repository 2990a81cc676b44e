"""Training objectives of a latent-variable model: the ELBO (with free bits) and the importance-weighted bound.

An objective maps a batch to :class:`ObjectiveTerms` (the scalar to minimise and what ``fit`` reports);
:func:`get_objective` builds one from a ``VAE``'s arguments::

    ELBO        -E_q[log p(x|z)] + beta KL(q || p), with optional free bits
    IWAEBound   -log (1/k) sum_i p(x|z_i) p(z_i)^beta / q(z_i|x)^beta

:func:`elbo_terms` is the one ELBO (training, evaluation and the exported model use it). The reconstruction
term is the loss given to ``compile`` (:mod:`vae_tf.reconstruction`): the package's losses receive the decoder
distribution, any other Keras loss its mean.
"""

import dataclasses
import math
from typing import Any, Callable, NamedTuple

import tensorflow as tf
import tensorflow_probability as tfp

from vae_tf import losses
from vae_tf.errors import InvalidInputError, check_non_negative_number, check_positive_int
from vae_tf.losses import reduce_per_example, scale_for_replicas, sum_over_event_dims
from vae_tf.reconstruction import reconstruction_term, scored_likelihood

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
        layer_kls: for a model of several latent layers, each layer's KL per example (they sum to ``kl``);
            None for one layer.
    """

    loss: Any
    kl: Any
    reconstruction_nll: Any
    decoder_mean: Callable[[], Any]
    layer_kls: Any = None


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
    r"""The KL term with free bits, divided by the replicas::

        sum_j max(lambda, (1/B) sum_i w_i KL_ij)

    .. math::

        \sum_{j} \max\Big(\lambda,\ \frac{1}{B} \sum_{i=1}^{B} w_i\, \mathrm{KL}_{ij}\Big)

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
    r""":class:`ElboTerms` of ``model`` at latent ``z`` drawn from ``q = q(z|x)``: per example, in nats::

        ELBO(x) = log p(x|z) - KL(q(z|x) || p(z)),     z ~ q(z|x)

    .. math::

        \mathrm{ELBO}(x) = \log p(x \mid z) - \mathrm{KL}\big(q(z \mid x) \,\|\, p(z)\big), \qquad z \sim q(z \mid x)

    one sample; the KL is analytic when TFP registers it (``model.kl_divergence``). ``log p(x|z)`` is
    evaluated on the flat event layout (the same value, faster under XLA on CPU).
    """
    px = model.decode(z, training=training)
    px_flat, x_flat = flat_event_view(px, tf.cast(x, tf.float32))
    log_px = sum_over_event_dims(scored_likelihood(model, px_flat).log_prob(x_flat))
    return ElboTerms(px, px_flat, x_flat, log_px, model.kl_divergence(q, z))


class ELBO:
    r"""The negative ELBO with one reparameterised sample ``z ~ q(z|x)`` per example.

    Formula, averaged over the batch with the sample weights::

        loss = reconstruction(x, p(x|z)) + beta * KL(q(z|x) || p(z))

    .. math::

        \ell(x) = \mathrm{reconstruction}\big(x, p(x \mid z)\big) + \beta\, \mathrm{KL}\big(q(z \mid x) \,\|\, p(z)\big)

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
        # terms.log_px is of p(x|z) itself unless the model is scored at a fixed sigma (scored_likelihood).
        log_px = terms.log_px if getattr(model, "scored_sigma", None) is None else None
        reconstruction = reconstruction_term(model.reconstruction_loss, target, terms.px, terms.x_flat,
                                             terms.px_flat, sample_weight, log_px=log_px)
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
    :func:`~vae_tf.reconstruction.check_log_density_loss`) its per-example value
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
    r"""The negative importance-weighted bound ``-L_k`` with ``k = num_samples >= 2``.

    Formula, per example, averaged over the batch with the sample weights::

        loss = -( logsumexp_i [log p(x|z_i) + beta (log p(z_i) - log q(z_i|x))] - log k )

    .. math::

        \ell(x) = -\mathcal{L}_k(x), \qquad
        \mathcal{L}_k(x) = \log \frac{1}{k} \sum_{i=1}^{k} p(x \mid z_i) \Big(\frac{p(z_i)}{q(z_i \mid x)}\Big)^{\beta},
        \qquad z_i \sim q(z \mid x)

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
        ~vae_tf.errors.InvalidInputError: (a ``ValueError``) an unknown objective, ``num_samples`` that is
            not a positive integer or is given with ``objective="elbo"``, negative ``free_bits``, or free
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
