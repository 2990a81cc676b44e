r"""Bits per dimension of the integer image: one scale on which every likelihood can be ranked.

An image of ``D`` pixels with ``L`` grey levels ``k_d = 0..L-1`` has a probability
``P(k)``; its cost in bits per dimension is::

    bits/dim = -log2 P(k) / D = -log P(k) / (D ln 2)

.. math::

    \text{bits/dim} = -\frac{\log_2 P(k)}{D} = -\frac{\ln P(k)}{D \ln 2}

never negative, at most ``log2 L`` for the uniform model. How a VAE gets ``log P(k)``
(Theis, van den Oord & Bethge, 2016):

* **exactly**, up to the IWAE estimate of the marginal, for decoders that are distributions over
  the levels (the discretized layers, on ``x = k / (L - 1)``) and for a Bernoulli on binary data;
* **as a lower bound** for a continuous density ``p`` on ``[0, 1]^D`` (Gaussian, continuous
  Bernoulli). Bin ``k`` is the cube ``[k/L, (k+1)/L)^D`` of volume ``L^-D``, so by Jensen::

      log P(k) = log E_u[p((k + u) / L)] - D log L >= E_u[log p((k + u) / L)] - D log L

  .. math::

      \log P(k) = \log \mathbb{E}_u\Big[p\Big(\frac{k + u}{L}\Big)\Big] - D \log L
      \;\ge\; \mathbb{E}_u\Big[\log p\Big(\frac{k + u}{L}\Big)\Big] - D \log L,

  ``u ~ U[0, 1)^D``, estimated on one fixed dequantized draw per image. A model trained on the raw
  grey values is scored in the same way, so a density that spiked on the grey levels pays for it.
* not at all for the Bernoulli decoder trained with BCE on grey values: ``exp(-BCE)`` is neither
  a probability of the levels nor a density on ``[0, 1]`` (it integrates to ``1/C(p) <= 1/2``).

The first functions are the pure conversions; :func:`~vae_tf.evaluation.scored_inputs` reads the decoder's declared
support (:mod:`vae_tf.support`) to say what is scored and how; :func:`~vae_tf.evaluation.evaluate_bits_per_dim` applies
them to a model (``VAE.bits_per_dim`` calls it).
"""

import math

import numpy as np

from vae_tf.data import dequantize_static, grey_levels, smallest_level_dtype
from vae_tf.errors import InvalidInputError
from vae_tf.evaluation.estimators import iwae_log_likelihood
from vae_tf.support import BINARY, LEVELS, support_of

#: How a model's bits/dim was obtained: the exact probability of the integer image.
EXACT = "exact"
#: How a model's bits/dim was obtained: an upper bound, a density scored on one fixed dequantized draw.
DEQUANTIZED_BOUND = "dequantized bound"

#: Why the Bernoulli decoder on grey values gets no bits/dim.
NO_LIKELIHOOD_REASON = (
    "a Bernoulli decoder (BCE) on grey values defines no probability of the image: exp(-BCE) is not a "
    "distribution over the grey levels, nor a density on [0, 1] (it integrates to 1/C(p) <= 1/2); use a "
    "discretized decoder, or the continuous Bernoulli on dequantized data")


class NoLikelihoodError(InvalidInputError):
    """The model defines no probability of the data, so it has no bits/dim."""


def nats_to_bits_per_dim(log_likelihood_nats, num_dims):
    """``-log P / (D ln 2)``: a log-probability in nats of ``D`` values to bits per dimension."""
    return -np.asarray(log_likelihood_nats, np.float64) / (int(num_dims) * math.log(2.0))


def dequantized_bound(log_density_nats, num_dims, num_levels):
    """``log p((k + u) / L) - D log L``: a density's log at a dequantized image to a bound on ``log P(k)``.

    Averaged over ``u ~ U[0, 1)^D`` it is at most ``log P(k)``, where ``P(k)`` is the mass that
    ``p`` puts on the cube ``[k/L, (k+1)/L)^D`` of the integer image ``k``.
    """
    return np.asarray(log_density_nats, np.float64) - int(num_dims) * math.log(int(num_levels))


def scored_inputs(likelihood, x, seed=0):
    """``(y, method, L)``: what to evaluate the model's likelihood on for bits/dim of grey levels ``x``.

    ``x`` holds grey levels ``k / (L - 1)``; ``L`` is the one the decoder declares (its support's ``num_levels``).
    What is scored follows the decoder's support: a decoder over ``L`` levels scores ``x`` itself, a Bernoulli
    (binary support) scores binary ``x`` (``L = 2``); both :data:`EXACT`. A continuous density scores one fixed
    dequantized draw ``(k + u) / L`` from ``seed`` (:func:`vae_tf.data.dequantize_static`): :data:`DEQUANTIZED_BOUND`,
    which needs the layer built with ``num_levels``. Raises :class:`NoLikelihoodError` for a Bernoulli decoder on
    grey values.
    """
    x = np.asarray(x, np.float32)
    support = support_of(likelihood)
    levels = support.num_levels
    if support.kind == LEVELS:
        grey_levels(x, levels, smallest_level_dtype(levels))  # the data must be on the decoder's grid
        return x, EXACT, levels
    if support.kind == BINARY:
        if x.size and not np.all((x == 0) | (x == 1)):
            raise NoLikelihoodError(f"No bits/dim: {NO_LIKELIHOOD_REASON}.")
        return x, EXACT, 2
    if levels is None:
        raise InvalidInputError(
            f"A continuous density ({type(likelihood).__name__}) is scored on dequantized integer images and needs "
            f"their number of levels: build the layer with num_levels=L (e.g. ImageData.num_levels: 256 for 8-bit "
            f"images).")
    return dequantize_static(x, levels, seed), DEQUANTIZED_BOUND, levels


def log_probability_of_levels(log_likelihood_nats, num_dims, method, num_levels):
    """``log P(k)`` in nats (exact) or its dequantized lower bound, from the model's log-likelihood of ``y``."""
    if method == DEQUANTIZED_BOUND:
        return dequantized_bound(log_likelihood_nats, num_dims, num_levels)
    return np.asarray(log_likelihood_nats, np.float64)


def evaluate_bits_per_dim(model, x, k=1000, seed=0, verbose=0):
    """Bits/dim of grey-level images ``x = k / (L - 1)`` under ``model``, from the IWAE estimate.

    Returns a dict: ``bits_per_dim`` (the mean over images, ``-mean log P / (D ln 2)``),
    ``log_prob`` (mean ``log P(k)`` in nats, or its bound), ``log_likelihood`` (mean IWAE
    estimate of the model's own log-likelihood of what it scored, nats), ``method``
    (:data:`EXACT` or :data:`DEQUANTIZED_BOUND`), ``num_levels``, ``num_dims`` and ``k``.
    """
    y, method, levels = scored_inputs(model.likelihood, x, seed)
    d = int(np.prod(y.shape[1:]))
    ll = iwae_log_likelihood(model, y, k=k, seed=seed, verbose=verbose)
    log_prob = float(np.mean(log_probability_of_levels(ll, d, method, levels)))
    return {"bits_per_dim": float(nats_to_bits_per_dim(log_prob, d)), "log_prob": log_prob,
            "log_likelihood": float(np.mean(ll)), "method": method, "num_levels": levels, "num_dims": d, "k": int(k)}
