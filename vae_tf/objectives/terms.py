"""What an objective returns, and how a ``VAE``'s ``objective=`` argument picks one."""

import dataclasses
import math
from typing import Any, Callable

from vae_tf.validation import check_positive_int

#: Values of ``VAE(objective=...)``.
OBJECTIVES = ("elbo", "iwae")


@dataclasses.dataclass
class ObjectiveTerms:
    """One batch's objective.

    Attributes:
        loss: the scalar minimised: this replica's share of the global batch mean
            (``losses.reduction``), in nats per example.
        kl: ``KL(q(z|x) || p(z))`` per example, ``(batch,)``: the true KL, whatever the objective.
        reconstruction_nll: ``-log p(x|z)`` per example under the likelihood, ``(batch,)``.
        decoder_mean: a zero-argument callable giving the mean of ``p(x|z)`` for the batch,
            ``(batch, *event_shape)`` (computed only when compiled metrics ask for it).
    """

    loss: Any
    kl: Any
    reconstruction_nll: Any
    decoder_mean: Callable[[], Any]


def check_free_bits(free_bits):
    try:
        value = float(free_bits)
    except (TypeError, ValueError):
        raise ValueError(f"free_bits must be a finite number >= 0 (nats per latent unit), got {free_bits!r}.") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"free_bits must be a finite number >= 0 (nats per latent unit), got {free_bits!r}.")
    return value


def get_objective(objective="elbo", num_samples=1, free_bits=0.0):
    """The objective object for ``VAE(objective=, num_samples=, free_bits=)``.

    ``"iwae"`` with ``num_samples=1`` is the ELBO: the 1-sample bound *is* the ELBO, and it is
    computed as the ELBO is (analytic KL, the same compiled step), so ``k=1`` trains exactly as
    ``objective="elbo"`` does.

    Raises:
        ValueError: an unknown objective, ``num_samples`` that is not a positive integer or is
            given with ``objective="elbo"``, negative ``free_bits``, or free bits with IWAE.
    """
    from vae_tf.objectives.elbo import ELBO
    from vae_tf.objectives.iwae import IWAEBound

    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}.")
    num_samples = check_positive_int(num_samples, "num_samples")
    free_bits = check_free_bits(free_bits)
    if objective == "elbo":
        if num_samples != 1:
            raise ValueError(f"num_samples={num_samples} needs objective='iwae' (the ELBO uses one sample).")
        return ELBO(free_bits=free_bits)
    if free_bits > 0:
        raise ValueError("free_bits applies to the ELBO's KL term; objective='iwae' has no separate KL term. "
                         "Use objective='elbo' with free_bits, or free_bits=0 with IWAE.")
    return ELBO() if num_samples == 1 else IWAEBound(num_samples)
