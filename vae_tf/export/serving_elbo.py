"""The ELBO the exported model serves: deterministic per example, whatever batch the example arrives in."""

import tensorflow as tf

from vae_tf.objectives.elbo import elbo_terms


def example_noise_seeds(x):
    """One stateless seed per example, a function of that example's bytes alone.

    Formula: ``seed_i = bitcast_int32(farmhash64(bytes of x_i))``, shape ``(batch, 2)``.
    """
    fingerprints = tf.fingerprint(tf.convert_to_tensor(x, tf.float32))  # (batch, 8) uint8
    return tf.bitcast(tf.reshape(fingerprints, (-1, 2, 4)), tf.int32)


def _latent_noise(x, latent_dim):
    """``eps_i = stateless_normal([L], seed_i)``: example i's noise does not depend on the rest of the batch."""
    return tf.map_fn(
        lambda seed: tf.random.stateless_normal([latent_dim], seed=seed),
        example_noise_seeds(x),
        fn_output_signature=tf.TensorSpec([latent_dim], tf.float32),
    )


def serving_elbo(model, x):
    """The per-example ELBO the exported ``elbo`` and ``serving_default`` signatures compute, in nats.

    One reparameterised latent sample per example whose noise is a function of
    the example itself, so a served ELBO is reproducible and does not change
    with the batch an example arrives in (TF Serving may batch requests)::

        eps_i  = stateless_normal([L], seed=example_noise_seeds(x)[i])
        z_i    = z_mean_i + exp(z_log_var_i / 2) * eps_i
        reconstruction_nll_i = -log p(x_i | z_i)
        kl_i   = KL(q(z | x_i) || p(z))        (analytic for the N(0, I) prior)
        elbo_i = -reconstruction_nll_i - kl_i  (beta = 1 whatever the model trained with)

    Returns a dict of float32 tensors ``elbo``, ``reconstruction_nll``, ``kl``, each ``(batch,)``.
    """
    x = tf.convert_to_tensor(x, tf.float32)
    return elbo_outputs(model, x, *model.posterior(x, training=False))


def elbo_outputs(model, x, q, z_mean, z_log_var):
    """The ``elbo`` signature's outputs at ``z = z_mean + sigma * eps(x)``: :func:`vae_tf.objectives.elbo_terms`."""
    z = z_mean + tf.exp(0.5 * z_log_var) * _latent_noise(x, model.latent_dim)
    terms = elbo_terms(model, x, q, z, training=False)
    nll, kl = -tf.cast(terms.log_px, tf.float32), tf.cast(terms.kl, tf.float32)
    return {"elbo": -nll - kl, "reconstruction_nll": nll, "kl": kl}
