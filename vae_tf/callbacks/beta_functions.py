"""Schedules of the KL weight as plain functions of the epoch or step ``t``, for :class:`BetaSchedule`."""

from vae_tf.argument_checks import check_positive_int
from vae_tf.errors import InvalidInputError


def linear_warmup(length, beta=1.0):
    """``t -> beta * min(1, t / length)``: 0 at ``t = 0``, ``beta`` from ``t = length`` on."""
    length = check_positive_int(length, "length")
    return lambda t: beta * min(1.0, t / length)


def cyclical_annealing(period, ramp_fraction=0.5, beta=1.0):
    """Cyclical annealing (Fu et al., 2019): ``t -> beta * min(1, (t mod period) / (ramp_fraction * period))``.

    Each cycle of ``period`` epochs or steps rises linearly from 0 to ``beta`` over its first
    ``ramp_fraction`` and stays there for the rest.
    """
    period = check_positive_int(period, "period")
    if not 0 < ramp_fraction <= 1:
        raise InvalidInputError(f"ramp_fraction must lie in (0, 1], got {ramp_fraction!r}.")
    ramp = ramp_fraction * period
    return lambda t: beta * min(1.0, (t % period) / ramp)


