"""What a VAE run is, as plain data, kept apart from the model and the training loop.

A :class:`VAEConfig` names a decoder likelihood, its scale, the reconstruction loss
and the data representation; :func:`build_vae` and :func:`build_loss` turn it into a
``VAE`` and the loss given to ``compile``.
"""

import dataclasses
import math

import numpy as np

import losses
from vae_tf import layers, networks
from vae_tf.models.vae.model import VAE

LIKELIHOODS = ("gaussian", "bernoulli", "continuous_bernoulli")
LOSSES = ("nll", "scaled_mse", "keras_mse", "bce")


@dataclasses.dataclass
class VAEConfig:
    """One VAE configuration.

    Attributes:
        name: short identifier (used in file names and tables).
        likelihood: ``"gaussian"``, ``"bernoulli"`` or ``"continuous_bernoulli"``.
        scale: Gaussian sigma: a float, ``"learned"`` (one shared sigma),
            ``"per_pixel"``, or ``"keras_mse"`` (the sigma ``sqrt(D/2)`` that
            Keras' mean ``"mse"`` + KL implies). Ignored by the other likelihoods.
        loss: ``"nll"`` (``-log p(x|z)``), ``"scaled_mse"`` (``ScaledMSE(scale)``),
            ``"keras_mse"`` (the string ``"mse"``) or ``"bce"``.
        binarized: train on dynamically binarized pixels (scored on a static draw).
        latent_dim, hidden, activation, beta: the architecture and the KL weight.
        objective, num_samples, free_bits: ``VAE(objective=, num_samples=, free_bits=)``.
        description: one line for reports.
    """

    name: str
    likelihood: str = "gaussian"
    scale: object = 1.0
    loss: str = "nll"
    binarized: bool = False
    latent_dim: int = 16
    hidden: tuple = (200, 200)
    beta: float = 1.0
    description: str = ""
    activation: str = "relu"
    objective: str = "elbo"
    num_samples: int = 1
    free_bits: float = 0.0

    def __post_init__(self):
        if self.likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {self.likelihood!r}.")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}.")
        if self.loss in ("scaled_mse", "keras_mse") and self.likelihood != "gaussian":
            raise ValueError(f"{self.name}: loss {self.loss!r} needs a Gaussian likelihood.")
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
        if self.likelihood != "gaussian":
            return None
        if self.scale == "keras_mse" or self.loss == "keras_mse":
            return keras_mse_implied_sigma(event_shape)
        return float(self.scale) if isinstance(self.scale, (int, float)) else None

    @property
    def fixed_sigma(self):
        """True for a Gaussian decoder whose sigma is not learned (an MSE-trained model)."""
        return self.likelihood == "gaussian" and self.scale not in ("learned", "per_pixel")


def keras_mse_implied_sigma(event_shape):
    """``sqrt(D / 2)``: Keras' ``mean_d (x_d - mu_d)^2`` equals ``sum_d (x_d - mu_d)^2 / (2 sigma^2)`` at this sigma."""
    return math.sqrt(int(np.prod(event_shape)) / 2.0)


def keras_mse_implied_beta(event_shape, meant_sigma=1.0):
    """``D / (2 sigma^2)``: the KL weight that mean-MSE + KL hides, relative to a Gaussian with ``meant_sigma``."""
    return int(np.prod(event_shape)) / (2.0 * meant_sigma**2)


def build_likelihood(config, event_shape):
    if config.likelihood == "bernoulli":
        return layers.IndependentBernoulli(event_shape)
    if config.likelihood == "continuous_bernoulli":
        return layers.IndependentContinuousBernoulli(event_shape)
    sigma = config.sigma(event_shape)
    return layers.IndependentNormal(event_shape, scale=sigma if sigma is not None else config.scale)


def build_loss(config, event_shape):
    """The reconstruction loss ``compile`` gets."""
    if config.loss == "nll":
        return losses.NegativeLogLikelihood()
    if config.loss == "bce":
        return losses.BinaryCrossentropy()
    if config.loss == "keras_mse":
        return "mse"
    return losses.ScaledMSE(sigma=float(config.scale))


def build_vae(config, event_shape, seed=0):
    """An uncompiled MLP :class:`VAE` for ``config`` over images of ``event_shape``."""
    return VAE(
        encoder=networks.mlp_encoder(latent_dim=config.latent_dim, hidden=config.hidden, activation=config.activation),
        decoder=networks.mlp_decoder(hidden=config.hidden, activation=config.activation),
        likelihood=build_likelihood(config, event_shape),
        beta=config.beta,
        seed=seed,
        objective=config.objective,
        num_samples=config.num_samples,
        free_bits=config.free_bits,
    )
