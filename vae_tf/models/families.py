"""The model families a run can train, in the one list of their names (``vae-tf train --model``, ``compare
--model``), and :func:`build_model`, which builds a configuration's model in any of them.

A :class:`~vae_tf.models.vae.VAEConfig` names the decoder, the loss and the data representation; the family
decides the latents and the networks: ``"vae"`` a global latent vector (``config.latent_dim``, ``config.network``),
``"hierarchical"`` a top-down hierarchy of spatial latents (a :class:`~vae_tf.HierarchicalVAEConfig`, default
``HierarchicalVAEConfig()``).
"""

from vae_tf.errors import InvalidInputError
from vae_tf.models.hierarchical import HierarchicalVAE, HierarchicalVAEConfig
from vae_tf.models.vae.config import build_likelihood, build_vae

#: Names of the model families, the values of ``--model``.
MODEL_FAMILIES = ("vae", "hierarchical")


def check_model_family(family, network=None):
    """``family`` if it names a model family of :data:`MODEL_FAMILIES` that takes ``network`` (a configuration's
    ``"auto"``/``"mlp"``/``"conv"``/``"resnet"``, or None), else a one-line :class:`~vae_tf.errors.InvalidInputError`:
    the hierarchy has its own residual networks."""
    if family not in MODEL_FAMILIES:
        raise InvalidInputError(f"model family must be one of {', '.join(MODEL_FAMILIES)}, got {family!r}.")
    if family == "hierarchical" and network not in (None, "auto", "resnet"):
        raise InvalidInputError(f"the hierarchical model has its own residual networks; network={network!r} "
                                "applies to the vae family (leave it at auto).")
    return family


def build_model(config, event_shape, family="vae", seed=0, num_levels=256, architecture=None):
    """An uncompiled model of ``family`` for the :class:`~vae_tf.models.vae.VAEConfig` ``config`` over images of
    ``event_shape`` with ``num_levels`` grey levels. ``architecture``: the hierarchical family's
    :class:`~vae_tf.HierarchicalVAEConfig` (None: its defaults), whose ``free_bits`` the configuration's
    ``free_bits`` replaces when it is set; the ``"vae"`` family takes none. The hierarchy trains on the ELBO
    (``objective="iwae"`` raises :class:`~vae_tf.errors.InvalidInputError`).
    """
    if check_model_family(family, config.network) == "vae":
        if architecture is not None:
            raise InvalidInputError("the vae family's architecture is its configuration's latent_dim, hidden and "
                                    "network; a HierarchicalVAEConfig is for family='hierarchical'.")
        return build_vae(config, event_shape, seed=seed, num_levels=num_levels)
    if config.objective != "elbo":
        raise InvalidInputError(f"the hierarchical model trains on the ELBO; objective={config.objective!r} applies "
                                "to the vae family.")
    architecture = architecture or HierarchicalVAEConfig()
    if config.free_bits > 0:  # nats per latent unit in both, floored per latent layer in the hierarchy
        architecture = architecture.replace(free_bits=config.free_bits)
    likelihood = build_likelihood(config, event_shape, num_levels, project=False)
    return HierarchicalVAE(architecture, likelihood, beta=config.beta, seed=seed)
