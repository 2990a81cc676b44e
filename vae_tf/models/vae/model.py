"""The variational autoencoder (Kingma & Welling, 2014) as a subclassed Keras 3 model.

The model holds the networks, the prior and the latent noise; what every family shares (the KL weight, ``compile``,
the training step, checked ``fit``, the scores) is :class:`~vae_tf.models.base.LatentVariableModel`; the objectives
it trains on live in :mod:`vae_tf.objectives`, the distribution-level fast paths in :mod:`vae_tf.distributions`.
"""

import warnings

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import keras

from vae_tf.distributions import reparameterized_sample, standard_normal_prior
from vae_tf.errors import InvalidInputError, check_positive_int
from vae_tf.layers import DiagonalGaussianPosterior
from vae_tf.models.base import LatentVariableModel
from vae_tf.networks import params_per_pixel
from vae_tf.objectives import elbo_terms, get_objective, log_importance_weights as importance_weights

tfd = tfp.distributions


# -- what a VAE is given: its networks, checked when it is built, said in one line ---------------------------------------

def _shape_text(shape):
    """``(batch, 28, 28, 1)`` for a static shape whose first axis is the batch."""
    return "(" + ", ".join(["batch"] + [str(d) for d in tuple(shape)[1:]]) + ")"


def declared_output(network):
    """The one output a Keras functional (or input-built Sequential) model declares, a ``KerasTensor``; None when
    it declares none (a layer, or a model whose output is known only once it is called)."""
    try:
        outputs = network.outputs
    except (AttributeError, ValueError):
        return None
    return outputs[0] if outputs and len(outputs) == 1 else None


def check_posterior(q, what="encoder"):
    """Raises :class:`~vae_tf.errors.InvalidInputError` unless ``q`` (what the encoder returned) is a TFP
    distribution ``q(z|x)``; the message says how to wrap a network that returns a vector."""
    if isinstance(q, tfd.Distribution):
        return q
    shape = getattr(q, "shape", None)
    returned = (f"a tensor of shape {_shape_text(shape)}" if shape is not None and len(shape) >= 1
                else f"a {type(q).__name__}")
    raise InvalidInputError(
        f"{what} must return a distribution q(z|x) (a TFP distribution); it returned {returned}: wrap the network "
        f"as vae_tf.networks.GaussianEncoder(net, latent_dim).")


def check_encoder(encoder):
    """What can be said of ``encoder`` before it is called: it is a layer, and a Keras functional model (which
    returns tensors, never a distribution) is refused with the wrapping to use (:func:`check_posterior`)."""
    if not callable(encoder):
        raise InvalidInputError(f"encoder must be a Keras layer or model returning q(z|x) (e.g. "
                                f"vae_tf.networks.mlp_encoder(latent_dim)), got {type(encoder).__name__}.")
    output = declared_output(encoder)
    if output is not None:
        check_posterior(output)


def check_decoder_output(shape, likelihood):
    """Checks the decoder's output ``shape`` (batch first) against ``likelihood`` when it is built.

    ``project=False``: the decoder outputs the layer's parameters ready-made, ``params_size`` numbers per example
    (``likelihood.num_params()``), as ``(H, W, params_per_pixel)`` when it is a conv decoder over images
    ``(H, W, C)``: anything else raises :class:`~vae_tf.errors.InvalidInputError` naming both numbers.
    ``project=True``: the layer projects any features through its own Dense layer; a decoder that already outputs
    the ``(H, W, params_per_pixel)`` parameters gets a ``UserWarning`` (that Dense layer would hold
    ``params_size`` squared weights: build the likelihood with ``project=False``).
    """
    shape = tuple(shape)
    if any(d is None for d in shape[1:]):
        return
    size, needed = int(np.prod(shape[1:])), int(likelihood.num_params())
    event = tuple(likelihood.event_shape)
    name = type(likelihood).__name__
    grid = event[:-1] + (params_per_pixel(likelihood),) if len(event) == 3 else None
    spatial = len(shape) >= 4
    if not likelihood.project:
        if size == needed and (not spatial or grid is None or shape[1:] == grid):
            return
        wanted = f"params_size = {needed} numbers per example"
        if grid is not None:
            wanted += (f", as {_shape_text((None,) + grid)} from a conv decoder (params_per_pixel = {grid[-1]}: "
                       f"e.g. vae_tf.networks.conv_decoder({event}, params_per_pixel={grid[-1]}))")
        raise InvalidInputError(
            f"the decoder returns {_shape_text(shape)}, {size} numbers per example, but {name}(project=False) takes "
            f"its parameters ready-made: {wanted}; make the decoder output that, or build the likelihood with "
            f"project=True to project the decoder's features.")
    if spatial and grid is not None and shape[1:] == grid:
        warnings.warn(
            f"the decoder already returns {name}'s parameters, {_shape_text(shape)} (params_per_pixel = {grid[-1]}), "
            f"but the layer was built with project=True and projects them through a Dense layer of {size} x "
            f"{needed} weights: build it with project=False to take them as they are.", UserWarning, stacklevel=2)


@keras.saving.register_keras_serializable(package="vae_tf")
class VAE(LatentVariableModel):
    """A VAE whose ``call`` returns the decoder distribution ``p(x | z)``, ``z ~ q(z | x)``.

    Training minimises ``loss(x, p(x|z)) + beta * KL(q(z|x) || p(z))`` averaged
    over the batch (``objective="elbo"``). The model adds the KL term itself
    (analytic when TFP knows it, e.g. diagonal Gaussians; a one-sample
    Monte-Carlo estimate otherwise), so the loss given to ``compile`` is only
    the reconstruction term: ``losses.NegativeLogLikelihood()`` (the default),
    ``losses.ScaledMSE``, ``losses.BinaryCrossentropy``, or any Keras loss,
    which then receives the mean of ``p(x|z)``.

    ``fit`` reports ``loss``, ``kl``, ``reconstruction_nll`` and ``beta``; the
    reconstruction NLL is the true ``-log p(x|z)`` under the likelihood whatever
    loss trained the model, so runs with different losses compare on one scale.

    Args:
        encoder: a layer mapping ``x`` to a TFP distribution ``q(z|x)`` (e.g. ``networks.mlp_encoder``); a network
            of your own that outputs features goes in as ``networks.GaussianEncoder(net, latent_dim)``.
        decoder: a layer mapping ``z`` to features that ``likelihood`` projects to its parameters (e.g.
            ``networks.mlp_decoder``), or to the parameters themselves (``params_size`` per example, or
            ``(H, W, params_per_pixel)`` from a conv decoder) for a likelihood built with ``project=False``.
        likelihood: a distribution layer (e.g. ``layers.IndependentNormal``).
        beta: weight of the KL term, >= 0 (1 gives the ELBO). It initialises the
            non-trainable variable ``model.beta``, which schedules such as
            ``vae_tf.callbacks.KLWarmup`` move during training (towards this value,
            kept as ``model.beta_target``).
        prior: a TFP distribution over ``z``; default ``N(0, I)``. A custom
            prior is not saved with the model.
        seed: seed of the model's own random stream (the latent samples).
        objective: ``"elbo"`` (default) or ``"iwae"``: the k-sample importance-weighted
            bound of Burda et al. (2015), ``vae_tf.objectives.IWAEBound``; ``loss`` then
            reports the negative bound. ``num_samples=1`` is exactly ELBO training.
        num_samples: ``k`` of the IWAE bound (``objective="iwae"`` only).
        free_bits: ``lambda >= 0`` nats: floor on each latent unit's batch-averaged KL
            (Kingma et al., 2016); 0 (default) is off. The reported ``kl`` stays the true KL.
    """

    def __init__(self, encoder, decoder, likelihood, beta=1.0, prior=None, seed=None, objective="elbo",
                 num_samples=1, free_bits=0.0, **kwargs):
        super().__init__(likelihood, beta=beta, seed=seed, **kwargs)
        # Checked now as far as the networks declare their outputs (functional models); the rest when built.
        check_encoder(encoder)
        self._decoder_checked = declared_output(decoder) is not None
        if self._decoder_checked:
            check_decoder_output(declared_output(decoder).shape, likelihood)
        self.encoder = encoder
        self.decoder = decoder
        self._objective = get_objective(objective, num_samples, free_bits)
        self.objective = objective
        self.num_samples = int(num_samples)
        self.free_bits = float(free_bits)
        self._prior = prior
        self._posterior_size = None  # for an encoder without latent_dim: the size of its q(z|x), once built

    # -- structure -----------------------------------------------------------

    @property
    def latent_dim(self):
        """Units of ``z``: the encoder's ``latent_dim``, or for an encoder without one the size of the ``q(z|x)``
        it returned when the model was built."""
        own = getattr(self.encoder, "latent_dim", None)
        if own is None and self._posterior_size is None:
            raise InvalidInputError("latent_dim: the encoder has no latent_dim attribute, and the size of its q(z|x) "
                                    "is known once the model is built (model.build(input_shape) or fit).")
        return int(own if own is not None else self._posterior_size)

    def prior(self):
        """``p(z)``."""
        return self._prior if self._prior is not None else standard_normal_prior(self.latent_dim)

    def build(self, input_shape):
        # Build every sub-layer with one concrete forward pass: the layers return
        # distributions, which Keras' symbolic build cannot trace. What the encoder and decoder return is checked
        # here (VAE.__init__ checks what it can before): a one-line error naming the fix, not a traceback at fit.
        x = tf.zeros((1,) + tuple(int(d) for d in input_shape[1:]))
        q = check_posterior(self.encoder(x))
        self._posterior_size = int(q.event_shape[-1]) if q.event_shape.rank else 1
        features = self.decoder(q.mean())
        if not self._decoder_checked:
            check_decoder_output(features.shape, self.likelihood)
        self.likelihood(features)
        super().build(input_shape)

    # -- the model's distributions -------------------------------------------

    def encode(self, x, training=None):
        """``q(z | x)``."""
        return self.encoder(x, training=training)

    def posterior(self, x, training=None):
        """``(q(z|x), z_mean, z_log_var)`` from one pass of the encoder network (float32 parameters).

        A ``GaussianEncoder`` gives its parameters directly and ``q`` is rebuilt from them; any other
        encoder's ``q`` gives its mean and ``2 log stddev``.
        """
        parameters = getattr(self.encoder, "parameters", None)
        if parameters is not None:
            z_mean, z_log_var = parameters(x, training=training)
            q = DiagonalGaussianPosterior.distribution(z_mean, z_log_var)
        else:
            q = self.encode(x, training=training)
            z_mean, z_log_var = q.mean(), 2.0 * tf.math.log(q.stddev())
        return q, tf.cast(z_mean, tf.float32), tf.cast(z_log_var, tf.float32)

    def decode(self, z, training=None):
        """``p(x | z)``."""
        return self.likelihood(self.decoder(z, training=training))

    def sample_latent(self, q, x):
        """One reparameterised draw ``z ~ q(z | x)`` per example, from the model's seed stream.

        The hook through which training, ``evaluate`` and ``elbo`` draw their
        latent noise. Override it to control that noise, e.g. to make it a
        function of each example so results do not depend on how a batch is
        split across replicas (``tests/test_distribute.py`` does this).
        """
        return reparameterized_sample(q, self._next_seed())

    def sample_latents(self, q, x, num_samples):
        """``num_samples`` reparameterised draws per example, ``(num_samples, batch, latent_dim)``.

        The noise hook of the IWAE objective, as :meth:`sample_latent` is of the ELBO.
        """
        return reparameterized_sample(q, self._next_seed(), sample_shape=num_samples)

    def _forward(self, x, training=None):
        q = self.encode(x, training=training)
        z = self.sample_latent(q, x)
        return q, z, self.decode(z, training=training)

    def call(self, x, training=None):
        """``p(x | z)`` with ``z ~ q(z | x)`` (one reparameterised sample)."""
        return self._forward(x, training=training)[2]

    def kl_divergence(self, q, z):
        """``KL(q(z|x) || p(z))`` per example: analytic when TFP registers it, else ``log q(z) - log p(z)``."""
        prior = self.prior()
        try:
            return tfd.kl_divergence(q, prior)
        except NotImplementedError:
            return q.log_prob(z) - prior.log_prob(z)

    # -- what the base class asks of a family --------------------------------

    def networks(self):
        return self.encoder, self.decoder

    def objective_terms(self, x, target, sample_weight=None, training=None):
        """The batch's terms of ``objective`` (:class:`~vae_tf.objectives.ELBO` or :class:`~vae_tf.objectives.IWAEBound`)."""
        return self._objective(self, x, target, sample_weight, training=training)

    def per_example_elbo(self, x):
        """``log p(x|z) - KL(q(z|x) || p(z))`` per example, one draw ``z ~ q(z|x)`` from the seed stream, ``beta = 1``."""
        q = self.encode(x, training=False)
        return elbo_terms(self, x, q, self.sample_latent(q, x), training=False).elbo

    def log_importance_weights(self, x, num_samples, seed):
        """``log w_i = log p(x|z_i) + log p(z_i) - log q(z_i|x)``, ``(num_samples, batch)``, ``z_i`` drawn with the
        stateless ``seed`` (:func:`vae_tf.objectives.log_importance_weights`)."""
        q = self.encode(x)
        z = reparameterized_sample(q, seed, sample_shape=num_samples)
        return importance_weights(self, q, z, x)[0]

    def latent_summary(self, x):
        """``([KL(q(z|x) || p(z))], E[q(z|x)])`` per example of a batch: one latent layer."""
        q = self.encode(x)
        return [tfd.kl_divergence(q, self.prior())], q.mean()

    def with_scored_sigma(self, sigma, x_example):
        """A VAE on this model's encoder, decoder and likelihood layer, scored at the fixed ``sigma``."""
        twin = type(self)(self.encoder, self.decoder, self.likelihood, seed=self.seed)
        twin.scored_sigma = float(sigma)
        twin.build(x_example.shape)
        return twin

    # -- inference -----------------------------------------------------------

    def reconstruct(self, x):
        """Mean of ``p(x | z)`` at the posterior mean ``z = E[q(z|x)]``."""
        return self.decode(self.encode(x).mean()).mean()

    def sample(self, n, seed=None, mean=True):
        """``n`` images from the model: ``z ~ p(z)``, then the mean of ``p(x|z)`` (or a draw if ``mean=False``)."""
        n = check_positive_int(n, "n")
        seed = self._next_seed() if seed is None else tf.constant([int(seed), 0], tf.int32)
        z = self.prior().sample(n, seed=seed)
        px = self.decode(z)
        return px.mean() if mean else px.sample(seed=tfp.random.split_seed(seed)[0])

    # -- serialization -------------------------------------------------------

    def get_config(self):
        if self._prior is not None:
            raise NotImplementedError("A VAE with a custom prior cannot be serialized; re-create it in code.")
        return {**super().get_config(), "encoder": keras.saving.serialize_keras_object(self.encoder),
                "decoder": keras.saving.serialize_keras_object(self.decoder), "objective": self.objective,
                "num_samples": self.num_samples, "free_bits": self.free_bits}

    def load_own_variables(self, store):
        # Files written before beta became a variable hold none of the model's own variables:
        # keep beta at the configured value rather than refuse to load them.
        if len(store.keys()) == 0 and len(self._trainable_variables + self._non_trainable_variables) == 1:
            return
        super().load_own_variables(store)

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("encoder", "decoder", "likelihood"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
