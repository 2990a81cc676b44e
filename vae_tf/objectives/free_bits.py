"""Free bits (Kingma et al., 2016, "Improved variational inference with inverse autoregressive flow", eq. 15).

Each latent unit's batch-averaged KL is floored at ``lambda`` nats, so the optimiser gains
nothing by pushing a unit's KL below ``lambda``: units stay active instead of collapsing to
the prior early in training.
"""

import tensorflow as tf
import tensorflow_probability as tfp

from losses.reduction import scale_for_replicas

tfd = tfp.distributions


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
            raise ValueError(f"free_bits needs a {name} that factorises over latent units "
                             f"(tfd.Independent over a scalar distribution), got {type(dist).__name__}.")
        factors.append(base)
    q_units, p_units = factors
    try:
        return tfd.kl_divergence(q_units, p_units)
    except NotImplementedError:
        return q_units.log_prob(z) - p_units.log_prob(z)


def free_bits_kl(kl_units, free_bits, sample_weight=None):
    """The KL term with free bits: ``sum_j max(lambda, (1/B) sum_i w_i KL_ij)``, divided by the replicas.

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
