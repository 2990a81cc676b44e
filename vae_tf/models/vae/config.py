"""What a VAE run is, as plain data, kept apart from the model and the training loop.

A :class:`VAEConfig` names a decoder likelihood, its scale, the reconstruction loss
and the data representation; :func:`build_vae` and :func:`build_loss` turn it into a
``VAE`` and the loss given to ``compile``. The named configurations live in
:mod:`vae_tf.models.vae.registry`.
"""

import dataclasses
import math

import numpy as np

import losses
from vae_tf import layers, networks
from vae_tf.choices import NETWORKS
from vae_tf.models.vae.model import VAE

#: Continuous densities: scored on dequantized data by a lower bound on the probability of the integer image.
CONTINUOUS_LIKELIHOODS = ("gaussian", "continuous_bernoulli")
#: Distributions over the L grey levels: the probability of the integer image, exactly.
DISCRETIZED_LIKELIHOODS = ("discretized_normal", "logistic_mixture", "categorical")
LIKELIHOODS = CONTINUOUS_LIKELIHOODS + ("bernoulli",) + DISCRETIZED_LIKELIHOODS
#: Likelihoods with a mean-and-sigma Gaussian shape, which the MSE losses train through their mean.
GAUSSIAN_LIKELIHOODS = ("gaussian", "discretized_normal")
LOSSES = ("nll", "scaled_mse", "keras_mse", "bce")


@dataclasses.dataclass
class VAEConfig:
    """One VAE configuration.

    Attributes:
        name: short identifier (used in file names and tables).
        likelihood: continuous densities ``"gaussian"``, ``"continuous_bernoulli"``; ``"bernoulli"``;
            or distributions over the L grey levels ``"discretized_normal"``, ``"logistic_mixture"``,
            ``"categorical"`` (``vae_tf.layers`` ``IndependentDiscretizedNormal``,
            ``IndependentDiscretizedLogisticMixture``, ``IndependentCategorical``).
        scale: (discretized) Gaussian sigma: a float, ``"learned"`` (one shared sigma),
            ``"per_pixel"``, or ``"keras_mse"`` (the sigma ``sqrt(D/2)`` that
            Keras' mean ``"mse"`` + KL implies). Ignored by the other likelihoods.
        loss: ``"nll"`` (``-log p(x|z)``), ``"scaled_mse"`` (``ScaledMSE(scale)``),
            ``"keras_mse"`` (the string ``"mse"``) or ``"bce"``.
        binarized: train on dynamically binarized pixels (scored on a static draw).
        dequantized: train on dynamically dequantized pixels ``(k + u) / L`` (continuous
            densities only; every continuous density is scored on a static dequantized draw).
        latent_dim, hidden, activation, beta: the architecture and the KL weight (``hidden``: the MLP's widths).
        network: ``"auto"`` (default: ``vae_tf.networks.choose_network`` picks by the image shape),
            ``"mlp"``, ``"conv"`` or ``"resnet"``.
        objective, num_samples, free_bits: ``VAE(objective=, num_samples=, free_bits=)``.
        description: one line for reports.
    """

    name: str
    likelihood: str = "gaussian"
    scale: object = 1.0
    loss: str = "nll"
    binarized: bool = False
    dequantized: bool = False
    latent_dim: int = 16
    hidden: tuple = (200, 200)
    beta: float = 1.0
    description: str = ""
    activation: str = "relu"
    objective: str = "elbo"
    num_samples: int = 1
    free_bits: float = 0.0
    network: str = "auto"

    def __post_init__(self):
        if self.network not in NETWORKS:
            raise ValueError(f"network must be one of {NETWORKS}, got {self.network!r}.")
        if self.likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {self.likelihood!r}.")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}.")
        if self.loss in ("scaled_mse", "keras_mse") and self.likelihood not in GAUSSIAN_LIKELIHOODS:
            raise ValueError(f"{self.name}: loss {self.loss!r} needs a (discretized) Gaussian likelihood.")
        if self.dequantized and (self.binarized or self.likelihood not in CONTINUOUS_LIKELIHOODS):
            raise ValueError(f"{self.name}: dequantized data are for continuous densities "
                             f"({', '.join(CONTINUOUS_LIKELIHOODS)}) on grey levels, not binarized data or "
                             f"a {self.likelihood!r} likelihood.")
        if self.binarized and self.likelihood in DISCRETIZED_LIKELIHOODS:
            raise ValueError(f"{self.name}: binarized data have two levels: use the Bernoulli likelihood.")
        if self.loss == "scaled_mse" and not isinstance(self.scale, (int, float)):
            raise ValueError(f"{self.name}: ScaledMSE needs a fixed numeric sigma, got scale={self.scale!r}.")
        self.hidden = tuple(int(h) for h in self.hidden)

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    def to_dict(self):
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d):
        return cls(**{f.name: d[f.name] for f in dataclasses.fields(cls) if f.name in d})

    def sigma(self, event_shape):
        """The decoder's fixed sigma (None when learned or per pixel, or not Gaussian)."""
        if self.likelihood not in GAUSSIAN_LIKELIHOODS:
            return None
        if self.scale == "keras_mse" or self.loss == "keras_mse":
            return keras_mse_implied_sigma(event_shape)
        return float(self.scale) if isinstance(self.scale, (int, float)) else None

    @property
    def fixed_sigma(self):
        """True for a (discretized) Gaussian decoder whose sigma is not learned (an MSE-trained model)."""
        return self.likelihood in GAUSSIAN_LIKELIHOODS and self.scale not in ("learned", "per_pixel")

    @property
    def has_likelihood(self):
        """False only for the Bernoulli decoder on grey values: BCE there is no probability of the data."""
        return not (self.likelihood == "bernoulli" and not self.binarized)


def keras_mse_implied_sigma(event_shape):
    """``sqrt(D / 2)``: Keras' ``mean_d (x_d - mu_d)^2`` equals ``sum_d (x_d - mu_d)^2 / (2 sigma^2)`` at this sigma."""
    return math.sqrt(int(np.prod(event_shape)) / 2.0)


def keras_mse_implied_beta(event_shape, meant_sigma=1.0):
    """``D / (2 sigma^2)``: the KL weight that mean-MSE + KL hides, relative to a Gaussian with ``meant_sigma``."""
    return int(np.prod(event_shape)) / (2.0 * meant_sigma**2)


def build_likelihood(config, event_shape, num_levels=256, project=True):
    """The likelihood layer; the discretized ones get ``num_bins = num_levels``, the data's L.

    ``project=False`` for a decoder that outputs the parameters itself (conv, resnet).
    """
    if config.likelihood == "bernoulli":
        return layers.IndependentBernoulli(event_shape, project=project)
    if config.likelihood == "continuous_bernoulli":
        return layers.IndependentContinuousBernoulli(event_shape, project=project)
    if config.likelihood == "logistic_mixture":
        return layers.IndependentDiscretizedLogisticMixture(event_shape, num_bins=int(num_levels), project=project)
    if config.likelihood == "categorical":
        return layers.IndependentCategorical(event_shape, num_bins=int(num_levels), project=project)
    sigma = config.sigma(event_shape)
    scale = sigma if sigma is not None else config.scale
    if config.likelihood == "discretized_normal":
        return layers.IndependentDiscretizedNormal(event_shape, scale=scale, num_bins=int(num_levels), project=project)
    return layers.IndependentNormal(event_shape, scale=scale, project=project)


def build_loss(config, event_shape):
    """The reconstruction loss ``compile`` gets."""
    if config.loss == "nll":
        return losses.NegativeLogLikelihood()
    if config.loss == "bce":
        return losses.BinaryCrossentropy()
    if config.loss == "keras_mse":
        return "mse"
    return losses.ScaledMSE(sigma=float(config.scale))


def build_vae(config, event_shape, seed=0, num_levels=256):
    """An uncompiled :class:`VAE` for ``config`` over images of ``event_shape`` with ``num_levels`` grey levels.

    Its network is ``networks.choose_network(event_shape, config.network)``: an MLP of ``config.hidden``
    (the likelihood layer projects its features), or a conv / resnet decoder that outputs the
    likelihood's parameters per pixel (the layer built with ``project=False``).
    """
    network = networks.choose_network(event_shape, config.network)
    likelihood = build_likelihood(config, event_shape, num_levels, project=networks.projects_features(network))
    encoder, decoder = networks.build_networks(network, event_shape, config.latent_dim,
                                               params_per_pixel=networks.params_per_pixel(likelihood),
                                               hidden=config.hidden, activation=config.activation)
    return VAE(
        encoder=encoder,
        decoder=decoder,
        likelihood=likelihood,
        beta=config.beta,
        seed=seed,
        objective=config.objective,
        num_samples=config.num_samples,
        free_bits=config.free_bits,
    )
