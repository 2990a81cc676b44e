"""How a ``VAE``'s ``objective=``, ``num_samples=`` and ``free_bits=`` arguments pick an objective."""

from vae_tf.choices import OBJECTIVES
from vae_tf.argument_checks import check_non_negative_number, check_positive_int
from vae_tf.errors import InvalidInputError
from vae_tf.objectives.elbo import ELBO
from vae_tf.objectives.iwae import IWAEBound


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
