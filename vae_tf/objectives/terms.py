"""What an objective returns for one batch: :class:`ObjectiveTerms`."""

import dataclasses
from typing import Any, Callable


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
