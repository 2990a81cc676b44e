"""The configurations ``vae-tf compare`` trains by default, by name."""

from vae_tf.errors import UnknownConfigError
from vae_tf.models.vae.config import VAEConfig

_DEFAULTS = [
    # Grey-level pixels in [0, 1].
    VAEConfig("gauss_mse_sigma1", "gaussian", 1.0, "scaled_mse",
              description="Gaussian, fixed sigma=1, ScaledMSE(sigma=1) (= -log N up to a constant)"),
    VAEConfig("keras_mse", "gaussian", "keras_mse", "keras_mse",
              description='Keras "mse" (mean over pixels) + KL: a Gaussian with sigma=sqrt(D/2)'),
    VAEConfig("gauss_learned_sigma", "gaussian", "learned", "nll",
              description="Gaussian, one learned shared sigma, NegativeLogLikelihood"),
    VAEConfig("gauss_per_pixel_sigma", "gaussian", "per_pixel", "nll",
              description="Gaussian, per-pixel sigma from the decoder, NegativeLogLikelihood"),
    VAEConfig("bernoulli_bce_grey", "bernoulli", loss="bce",
              description="Bernoulli decoder, BinaryCrossentropy on grey values (not a density on [0, 1])"),
    VAEConfig("cont_bernoulli_nll", "continuous_bernoulli", loss="nll",
              description="Continuous Bernoulli, NegativeLogLikelihood (a proper density on [0, 1])"),
    # Binarized pixels (dynamic binarization to train, one fixed draw to validate and test).
    VAEConfig("bin_bernoulli_nll", "bernoulli", loss="nll", binarized=True,
              description="binarized: Bernoulli, NegativeLogLikelihood"),
    VAEConfig("bin_bernoulli_bce", "bernoulli", loss="bce", binarized=True,
              description="binarized: Bernoulli, BinaryCrossentropy (the same objective as NLL)"),
    VAEConfig("bin_gauss_mse_sigma1", "gaussian", 1.0, "scaled_mse", binarized=True,
              description="binarized: Gaussian, fixed sigma=1, ScaledMSE(sigma=1)"),
]

DEFAULT_CONFIGS = {c.name: c for c in _DEFAULTS}


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
                f"Unknown configuration name(s): {', '.join(map(repr, unknown))}. Valid names: "
                f"{', '.join(DEFAULT_CONFIGS)}.")
        if not chosen:
            raise UnknownConfigError(f"No configuration given. Valid names: {', '.join(DEFAULT_CONFIGS)}.")
    names = [c.name for c in chosen]
    if len(set(names)) != len(names):
        raise UnknownConfigError(f"Configuration names must be unique, got {names}.")
    if latent_dim is not None:
        chosen = [c.replace(latent_dim=int(latent_dim)) for c in chosen]
    return chosen
