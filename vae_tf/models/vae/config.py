"""What a VAE run is, as plain data, kept apart from the model and the training loop: :class:`VAEConfig` names a
decoder likelihood, its scale, the reconstruction loss and the data representation; :data:`DEFAULT_CONFIGS` holds
the named configurations (``vae-tf compare`` trains them all by default; ``vae-tf train --config NAME``), in
the one list of their names; :func:`build_vae` and :func:`build_loss` turn a configuration into a ``VAE`` and the
loss given to ``compile``.

Grey-level configurations model the integer image of ``L`` levels and are ranked by one number, bits/dim
(:mod:`vae_tf.evaluation.bits_per_dim`): the discretized decoders give its probability exactly; the continuous
densities train on dequantized pixels and are scored by a lower bound on it.
"""

import dataclasses
import difflib

import numpy as np

from vae_tf import layers, losses, networks
from vae_tf.errors import InvalidInputError, UnknownConfigError
from vae_tf.layers.gaussian import GaussianParameterLayer
from vae_tf.models.vae.model import VAE
from vae_tf.reconstruction import keras_mse_implied_sigma
from vae_tf.support import BINARY, REAL_LINE, UNIT_INTERVAL

#: The likelihood names a configuration takes and the layer each one builds. What a decoder is over is that
#: layer's ``support_kind`` (:mod:`vae_tf.support`); nothing here keeps a list of its own.
LIKELIHOOD_LAYERS = {
    "gaussian": layers.IndependentNormal,
    "continuous_bernoulli": layers.IndependentContinuousBernoulli,
    "bernoulli": layers.IndependentBernoulli,
    "discretized_normal": layers.IndependentDiscretizedNormal,
    "logistic_mixture": layers.IndependentDiscretizedLogisticMixture,
    "categorical": layers.IndependentCategorical,
}
LOSSES = ("nll", "scaled_mse", "keras_mse", "bce")
#: Support kinds of the continuous densities (scored on dequantized images by a bound).
DENSITIES = (UNIT_INTERVAL, REAL_LINE)


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
        if self.network not in networks.NETWORKS:
            raise InvalidInputError(f"network must be one of {networks.NETWORKS}, got {self.network!r}.")
        if self.likelihood not in LIKELIHOOD_LAYERS:
            raise InvalidInputError(f"likelihood must be one of {tuple(LIKELIHOOD_LAYERS)}, got {self.likelihood!r}.")
        if self.loss not in LOSSES:
            raise InvalidInputError(f"loss must be one of {LOSSES}, got {self.loss!r}.")
        if self.loss in ("scaled_mse", "keras_mse") and not self.gaussian:
            raise InvalidInputError(f"{self.name}: loss {self.loss!r} needs a (discretized) Gaussian likelihood.")
        if self.dequantized and (self.binarized or self.support_kind not in DENSITIES):
            raise InvalidInputError(f"{self.name}: dequantized data are for continuous densities on grey levels, not "
                             f"binarized data or a {self.likelihood!r} likelihood.")
        if self.binarized and self.support_kind != BINARY:
            raise InvalidInputError(f"{self.name}: binarized data have two levels: use the Bernoulli likelihood.")
        if self.loss == "scaled_mse" and not isinstance(self.scale, (int, float)):
            raise InvalidInputError(f"{self.name}: ScaledMSE needs a fixed numeric sigma, got scale={self.scale!r}.")
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

    @property
    def support_kind(self):
        """What the decoder is over, its layer's ``support_kind``."""
        return LIKELIHOOD_LAYERS[self.likelihood].support_kind

    @property
    def gaussian(self):
        """True for a (discretized) Gaussian decoder, which the MSE losses train through its mean."""
        return issubclass(LIKELIHOOD_LAYERS[self.likelihood], GaussianParameterLayer)

    def sigma(self, event_shape):
        """The decoder's fixed sigma (None when learned or per pixel, or not Gaussian)."""
        if not self.gaussian:
            return None
        if self.scale == "keras_mse" or self.loss == "keras_mse":
            return keras_mse_implied_sigma(event_shape)
        return float(self.scale) if isinstance(self.scale, (int, float)) else None

    @property
    def fixed_sigma(self):
        """True for a (discretized) Gaussian decoder whose sigma is not learned (an MSE-trained model)."""
        return self.gaussian and self.scale not in ("learned", "per_pixel")

    @property
    def has_likelihood(self):
        """False only for the Bernoulli decoder on grey values, where BCE is no probability of the data."""
        return not (self.support_kind == BINARY and not self.binarized)


def keras_mse_implied_beta(event_shape, meant_sigma=1.0):
    """``D / (2 sigma^2)``: the KL weight that mean-MSE + KL hides, relative to a Gaussian with ``meant_sigma``."""
    return int(np.prod(event_shape)) / (2.0 * meant_sigma**2)


def build_likelihood(config, event_shape, num_levels=256, project=True):
    """The likelihood layer, built with the data's ``num_levels`` (``L``: the levels of a discretized decoder, the
    images a density is scored against); ``project=False`` for a decoder that outputs the parameters itself
    (conv, resnet)."""
    layer = LIKELIHOOD_LAYERS[config.likelihood]
    options = {"project": project}
    if layer.support_kind != BINARY and num_levels is not None:
        options["num_levels"] = int(num_levels)
    if config.gaussian:
        sigma = config.sigma(event_shape)
        options["scale"] = sigma if sigma is not None else config.scale
    return layer(event_shape, **options)


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
    """An uncompiled :class:`~vae_tf.VAE` for ``config`` over images of ``event_shape`` with ``num_levels`` grey levels.

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


_DEFAULTS = [
    # Grey levels k / (L - 1): the MSE losses, trained through a discretized Gaussian's mean.
    VAEConfig("keras_mse", "discretized_normal", "keras_mse", "keras_mse",
              description='Keras "mse" (mean over pixels) + KL: a discretized Gaussian with sigma=sqrt(D/2)'),
    VAEConfig("scaled_mse_sigma1", "discretized_normal", 1.0, "scaled_mse",
              description="ScaledMSE(sigma=1) on the mean of a discretized Gaussian with sigma=1"),
    # Grey levels: distributions over the L levels, trained by NegativeLogLikelihood (exact bits/dim).
    VAEConfig("dnormal_learned_sigma", "discretized_normal", "learned", "nll",
              description="discretized Gaussian, one learned shared sigma, NegativeLogLikelihood"),
    VAEConfig("dnormal_per_pixel_sigma", "discretized_normal", "per_pixel", "nll",
              description="discretized Gaussian, per-pixel sigma from the decoder, NegativeLogLikelihood"),
    VAEConfig("logistic_mixture", "logistic_mixture", loss="nll",
              description="mixture of 5 discretized logistics per pixel (PixelCNN++ style), NegativeLogLikelihood"),
    VAEConfig("categorical", "categorical", loss="nll",
              description="softmax over the L levels of every pixel, NegativeLogLikelihood"),
    # Continuous densities on dequantized pixels (k + u) / L: a lower bound on the probability.
    VAEConfig("gauss_learned_sigma", "gaussian", "learned", "nll", dequantized=True,
              description="dequantized: Gaussian, one learned shared sigma, NegativeLogLikelihood"),
    VAEConfig("gauss_per_pixel_sigma", "gaussian", "per_pixel", "nll", dequantized=True,
              description="dequantized: Gaussian, per-pixel sigma from the decoder, NegativeLogLikelihood"),
    VAEConfig("cont_bernoulli_nll", "continuous_bernoulli", loss="nll", dequantized=True,
              description="dequantized: continuous Bernoulli, NegativeLogLikelihood"),
    # Trained on the raw grey values, scored like the dequantized ones: the density spikes show.
    VAEConfig("gauss_per_pixel_sigma_raw", "gaussian", "per_pixel", "nll",
              description="raw grey values: Gaussian, per-pixel sigma, NegativeLogLikelihood (scored dequantized)"),
    VAEConfig("bernoulli_bce_grey", "bernoulli", loss="bce",
              description="Bernoulli decoder, BinaryCrossentropy on grey values (no probability of the image)"),
    # Binarized pixels (dynamic binarization to train, one fixed draw to validate and test).
    VAEConfig("bin_bernoulli_nll", "bernoulli", loss="nll", binarized=True,
              description="binarized: Bernoulli, NegativeLogLikelihood"),
    VAEConfig("bin_bernoulli_bce", "bernoulli", loss="bce", binarized=True,
              description="binarized: Bernoulli, BinaryCrossentropy (the same objective as NLL)"),
]

#: The named configurations ``vae-tf compare`` trains, by name, in the order it trains them.
DEFAULT_CONFIGS = {c.name: c for c in _DEFAULTS}


def _did_you_mean(unknown):
    """`` Did you mean 'categorical'?`` for names close to a registered one (difflib's ratio >= 0.6), else ``""``."""
    guesses = []
    for name in unknown:
        close = difflib.get_close_matches(str(name), list(DEFAULT_CONFIGS), n=1)
        if close:
            guesses.append(f"{close[0]!r} for {name!r}" if len(unknown) > 1 else repr(close[0]))
    return f" Did you mean {', '.join(guesses)}?" if guesses else ""


def resolve_configs(configs=None, latent_dim=None):
    """A list of :class:`VAEConfig` from ``None`` (all defaults), names (a list or a comma-separated
    string) or ``VAEConfig`` objects; ``latent_dim`` overrides each one's latent size.

    An unknown name raises :class:`~vae_tf.errors.UnknownConfigError` listing the valid names.
    """
    if configs is None:
        chosen = list(_DEFAULTS)
    else:
        if isinstance(configs, str):
            configs = [c.strip() for c in configs.split(",") if c.strip()]
        chosen = []
        unknown = []
        for c in configs:
            if isinstance(c, VAEConfig):
                chosen.append(c)
            elif c in DEFAULT_CONFIGS:
                chosen.append(DEFAULT_CONFIGS[c])
            else:
                unknown.append(c)
        if unknown:
            raise UnknownConfigError(
                f"Unknown configuration name(s): {', '.join(map(repr, unknown))}.{_did_you_mean(unknown)} "
                f"Valid names: {', '.join(DEFAULT_CONFIGS)}.")
        if not chosen:
            raise UnknownConfigError(f"No configuration given. Valid names: {', '.join(DEFAULT_CONFIGS)}.")
    names = [c.name for c in chosen]
    if len(set(names)) != len(names):
        raise UnknownConfigError(f"Configuration names must be unique, got {names}.")
    if latent_dim is not None:
        chosen = [c.replace(latent_dim=int(latent_dim)) for c in chosen]
    return chosen
