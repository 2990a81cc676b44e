"""The named VAE configurations (``vae-tf compare`` trains them all by default; ``vae-tf train --config NAME``).

Kept beside :class:`VAEConfig`, below both ``vae_tf.training`` and ``vae_tf.compare``, which read it.

Grey-level configurations model the integer image of ``L`` levels and are ranked by one number,
bits/dim (:mod:`vae_tf.bits_per_dim`): the discretized decoders give its probability exactly;
the continuous densities train on dequantized pixels and are scored by a lower bound on it.
"""

import difflib

from vae_tf.choices import CONFIG_NAMES
from vae_tf.errors import UnknownConfigError
from vae_tf.models.vae.config import VAEConfig

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

DEFAULT_CONFIGS = {c.name: c for c in _DEFAULTS}
if tuple(DEFAULT_CONFIGS) != CONFIG_NAMES:  # the command line lists the names without importing this module
    raise ImportError(f"vae_tf.choices.CONFIG_NAMES must list the registry's configurations: {tuple(DEFAULT_CONFIGS)}")


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

    An unknown name raises :class:`UnknownConfigError` listing the valid names.
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
