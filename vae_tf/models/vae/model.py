"""The variational autoencoder (Kingma & Welling, 2014) as a subclassed Keras 3 model.

The model holds the networks, the prior, the KL weight and the latent noise; the objectives it
trains on live in :mod:`vae_tf.objectives`, the distribution-level fast paths in
:mod:`vae_tf.distributions`.
"""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import keras

# The module, not its names: `import vae_tf, losses` registers vae_tf's classes while `losses` is still loading.
import losses
from losses.reduction import scale_for_replicas
from vae_tf import evaluation
from vae_tf.argument_checks import check_positive_int
from vae_tf.callbacks.beta_logger import with_beta_logger
from vae_tf.callbacks.step_counting_progbar import with_step_counting_progress_bar
from vae_tf.distributions import reparameterized_sample, standard_normal_prior
from vae_tf.layers import DiagonalGaussianPosterior
from vae_tf.networks import has_convolutions
from vae_tf.networks.precision import choose_precision, network_precision, set_network_precision
from vae_tf.objectives import check_log_density_loss, get_objective, reconstruction_loss_for
from vae_tf.validation import check_beta, check_images, check_sample_weight

tfd = tfp.distributions

#: Steps run inside one compiled call by default: per-step Python and dispatch
#: overhead dominates a small VAE on a CPU, so several steps share one call.
DEFAULT_STEPS_PER_EXECUTION = 8


@keras.saving.register_keras_serializable(package="vae_tf")
class VAE(keras.Model):
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
        encoder: a layer mapping ``x`` to ``q(z|x)`` (e.g. ``networks.mlp_encoder``).
        decoder: a layer mapping ``z`` to features (e.g. ``networks.mlp_decoder``).
        likelihood: a distribution layer (e.g. ``layers.IndependentNormal``).
        beta: weight of the KL term, >= 0 (1 gives the ELBO). It initialises the
            non-trainable variable :attr:`beta`, which schedules such as
            ``vae_tf.callbacks.KLWarmup`` move during training (towards this value,
            kept as :attr:`beta_target`).
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
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.likelihood = likelihood
        self.beta_target = check_beta(beta)
        # A variable, not a Python float: a compiled (XLA) step reads its current value, so a
        # schedule can move it without retracing; it is saved and restored with the weights.
        self.beta = self.add_weight(shape=(), dtype="float32", trainable=False, name="beta",
                                    initializer=keras.initializers.Constant(self.beta_target))
        self._objective = get_objective(objective, num_samples, free_bits)
        self.objective = objective
        self.num_samples = int(num_samples)
        self.free_bits = float(free_bits)
        self._prior = prior
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed, name="latent_seed")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.reconstruction_nll_tracker = keras.metrics.Mean(name="reconstruction_nll")
        self.reconstruction_loss = losses.NegativeLogLikelihood()

    # -- structure -----------------------------------------------------------

    @property
    def latent_dim(self):
        return int(self.encoder.latent_dim)

    @property
    def event_shape(self):
        return tuple(self.likelihood.event_shape)

    def prior(self):
        """``p(z)``."""
        return self._prior if self._prior is not None else standard_normal_prior(self.latent_dim)

    def build(self, input_shape):
        # Build every sub-layer with one concrete forward pass: the layers return
        # distributions, which Keras' symbolic build cannot trace.
        x = tf.zeros((1,) + tuple(int(d) for d in input_shape[1:]))
        q = self.encoder(x)
        self.likelihood(self.decoder(q.mean()))
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

    def _next_seed(self):
        seed = tf.cast(self.seed_generator.next(), tf.int32)
        replica = tf.distribute.get_replica_context()
        if replica is not None and replica.num_replicas_in_sync > 1:
            # Every replica advances the same mirrored seed state in lockstep, so
            # without this all replicas would draw the same noise for their
            # different examples (correlated gradients, not an i.i.d. batch).
            seed = tf.random.experimental.stateless_fold_in(seed, replica.replica_id_in_sync_group)
        return seed

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

    # -- training ------------------------------------------------------------

    def compile(self, optimizer="adam", loss=None, metrics=None, jit_compile="auto",
                steps_per_execution=None, precision="auto", **kwargs):
        """Keras ``compile`` with the fast path on by default.

        ``loss`` is the reconstruction term (default
        ``losses.NegativeLogLikelihood()``). ``jit_compile="auto"`` means XLA
        unless running eagerly, under a ``tf.distribute`` strategy, or when the
        encoder or decoder holds a convolution (:meth:`prefers_xla`).
        ``steps_per_execution=None`` means ``DEFAULT_STEPS_PER_EXECUTION``, or
        1 under a strategy: Keras 3.15's multi-step loop fails under
        ``MirroredStrategy`` ("You must feed a value for placeholder tensor").

        ``precision`` is the networks' arithmetic (:mod:`vae_tf.networks.precision`): ``"float32"``,
        ``"mixed_bfloat16"`` (hidden layers in bfloat16; the layers that output distribution parameters,
        and the likelihood, in float32), ``"auto"`` (the default: bfloat16 for conv and resnet networks
        on a CPU that computes it natively, float32 otherwise; a global Keras policy other than float32
        is left to rule), or ``None`` (the layers keep the policies they were built with).
        :attr:`precision` says which the networks got.
        """
        distributed = self._under_strategy()
        if jit_compile == "auto":
            jit_compile = not kwargs.get("run_eagerly", False) and not distributed and self.prefers_xla()
        if steps_per_execution is None:
            steps_per_execution = 1 if distributed else DEFAULT_STEPS_PER_EXECUTION
        if precision == "auto" and keras.config.dtype_policy().name != "float32":
            precision = None
        if precision is not None:
            chosen = choose_precision(self.encoder, self.decoder, precision)
            # float32 over float32 is no change; skipping it leaves a user's own per-layer policies alone.
            if chosen != "float32" or self.precision != "float32":
                set_network_precision(self.encoder, self.decoder, chosen)
        reconstruction_loss = reconstruction_loss_for(loss)
        if self._objective.name == "iwae":
            check_log_density_loss(reconstruction_loss, self.likelihood)
        self.reconstruction_loss = reconstruction_loss
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, jit_compile=jit_compile,
                        steps_per_execution=steps_per_execution, **kwargs)

    @property
    def precision(self):
        """``"mixed_bfloat16"`` if a layer of the networks computes in bfloat16, else ``"float32"``."""
        return network_precision(self.encoder, self.decoder)

    def prefers_xla(self):
        """Whether XLA trains this model faster than TensorFlow's graph mode: yes for dense networks, no with convolutions.

        Measured by ``benchmarks/model_throughput.py`` on a CPU: XLA fuses the MLP's element-wise
        ops and the ELBO's (Keras itself turns XLA off on CPU-only machines; for the MLP it pays off),
        but XLA's CPU convolutions are slower than the oneDNN kernels graph mode calls, which for a
        conv or resnet VAE outweighs the fusion.
        """
        return not has_convolutions(self.encoder, self.decoder)

    def _under_strategy(self):
        """True when the model was created, or is being compiled, under a ``tf.distribute`` strategy."""
        return tf.distribute.has_strategy() or getattr(self, "_distribute_strategy", None) is not None

    def compile_from_config(self, config):
        # Keras skips this for models that override compile(); the config is plain compile() arguments.
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    @property
    def metrics(self):
        tracked = [self.loss_tracker, self.kl_tracker, self.reconstruction_nll_tracker]
        compiled = getattr(self, "_compile_metrics", None)
        return tracked + ([compiled] if compiled is not None else [])

    def _losses_and_metrics(self, data, training):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        target = x if y is None else y
        target = tf.cast(target, "float32")
        terms = self._objective(self, x, target, sample_weight, training=training)
        loss = terms.loss
        if self.losses:
            loss = loss + scale_for_replicas(tf.add_n(self.losses))
        return loss, (target, sample_weight, terms)

    def _update_trackers(self, loss, extras):
        target, sample_weight, terms = extras
        batch = tf.shape(target)[0]
        # `loss` is this replica's share of the global mean; report the replica's own mean.
        n = tf.distribute.get_strategy().num_replicas_in_sync
        self.loss_tracker.update_state(loss * n, sample_weight=batch)
        self.kl_tracker.update_state(terms.kl, sample_weight=sample_weight)
        self.reconstruction_nll_tracker.update_state(terms.reconstruction_nll, sample_weight=sample_weight)
        compiled = getattr(self, "_compile_metrics", None)
        if compiled is not None:
            compiled.update_state(target, terms.decoder_mean(), sample_weight)
        return self._as_step_outputs(self.get_metrics_result())

    def _as_step_outputs(self, logs):
        # Keras 3 reduces step outputs across workers with strategy.reduce(MEAN, v, axis=0),
        # which fails on scalars (tensorflow/tensorflow#72388); a (1,) vector reduces to the scalar.
        extended = self.distribute_strategy.extended
        if getattr(extended, "_in_multi_worker_mode", lambda: False)():
            return {name: tf.reshape(value, [1]) for name, value in logs.items()}
        return logs

    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss, extras = self._losses_and_metrics(data, training=True)
            scaled = self.optimizer.scale_loss(loss)
        grads = tape.gradient(scaled, self.trainable_variables)
        self.optimizer.apply(grads, self.trainable_variables)
        return self._update_trackers(loss, extras)

    def test_step(self, data):
        loss, extras = self._losses_and_metrics(data, training=False)
        return self._update_trackers(loss, extras)

    def predict_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self.reconstruct(x)

    def _check_data(self, x, y=None, sample_weight=None, where=""):
        """Checks inputs, targets and sample weights (arrays, or a dataset's first batch)."""
        if isinstance(x, tf.data.Dataset):
            for batch in x.take(1):
                self._check_data(*keras.utils.unpack_x_y_sample_weight(batch), where=where)
            return
        if x is None or isinstance(x, (np.ndarray, tf.Tensor)) or hasattr(x, "__array__"):
            x = check_images(x, self.likelihood, name=f"{where}Data x")
            if y is not None:
                check_images(y, self.likelihood, name=f"{where}Targets y")
            if sample_weight is not None:
                check_sample_weight(sample_weight, len(x), name=f"{where}sample_weight")

    def ensure_built(self, x):
        """Builds the model for inputs shaped like ``x`` (an array or a dataset) unless it is built."""
        if self.built:
            return
        if isinstance(x, tf.data.Dataset):
            shape = tf.TensorShape(x.element_spec[0].shape if isinstance(x.element_spec, tuple) else x.element_spec.shape)
        else:
            shape = tf.TensorShape(np.shape(x))
        # Variables must be created under the strategy the model was created in
        # (fit may be called outside `strategy.scope()`), or they are not mirrored.
        with self.distribute_strategy.scope():
            self.build(shape)

    def fit(self, x=None, y=None, *args, validation_data=None, **kwargs):
        """Keras ``fit``; the data are checked first (finite, in range, not empty).

        Checks run on arrays and on the first batch of a ``tf.data.Dataset``:
        a bad value raises ``ValueError`` naming it instead of training to NaN.
        The progress bar counts the steps that ran (``vae_tf.callbacks.StepCountingProgbarLogger``).
        """
        self._check_data(x, y, kwargs.get("sample_weight"))
        if validation_data is not None:
            if isinstance(validation_data, (tuple, list)):
                self._check_data(*keras.utils.unpack_x_y_sample_weight(tuple(validation_data)), where="validation_data: ")
            else:
                self._check_data(validation_data, where="validation_data: ")
        self.ensure_built(x)
        kwargs = with_step_counting_progress_bar(keras.Model.fit, args, kwargs)
        kwargs["callbacks"] = with_beta_logger(kwargs.get("callbacks"))
        return super().fit(x, y, validation_data=validation_data, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        """Keras ``evaluate``, with the data checked first as in :meth:`fit`."""
        self._check_data(x, y, kwargs.get("sample_weight"))
        self.ensure_built(x)
        return super().evaluate(x, y, **with_step_counting_progress_bar(keras.Model.evaluate, args, kwargs))

    def predict(self, x, *args, **kwargs):
        self._check_data(x)
        self.ensure_built(x)
        return super().predict(x, *args, **kwargs)

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

    def elbo(self, x, batch_size=1000):
        """Per-example ELBO in nats, one latent sample: ``log p(x|z) - KL(q(z|x) || p(z))`` (beta = 1).

        See :func:`vae_tf.evaluation.elbo`.
        """
        return evaluation.elbo(self, x, batch_size=batch_size)

    def iwae_log_likelihood(self, x, k=5000, batch_size=None, max_rows=None, seed=0, verbose=0):
        """Importance-weighted estimate of ``log p(x)`` per example (Burda et al., 2015).

        Formula: ``log (1/k) sum_{i=1..k} p(x|z_i) p(z_i) / q(z_i|x)``, ``z_i ~ q(z|x)``;
        a lower bound on ``log p(x)`` that tightens as ``k`` grows (``k=1`` is the ELBO).

        The ``k`` samples are drawn in chunks of at most ``max_rows`` decoder
        rows and combined with a running log-sum-exp, so memory does not grow with ``k``
        (:func:`vae_tf.evaluation.iwae_log_likelihood`).
        """
        return evaluation.iwae_log_likelihood(self, x, k=k, batch_size=batch_size, max_rows=max_rows, seed=seed,
                                              verbose=verbose)

    def bits_per_dim(self, x, num_levels=None, k=1000, seed=0, verbose=0):
        """Bits per dimension of grey-level images ``x = k / (L - 1)``: ``-log2 P(k) / D``, averaged.

        ``P(k)`` comes from :meth:`iwae_log_likelihood` with ``k`` samples: exact for a decoder
        over the levels (discretized layers, Bernoulli on binary ``x``); for a continuous density,
        the dequantized bound ``E_u[log p((k + u) / L)] - D log L`` on one fixed draw from ``seed``
        (needs ``num_levels``, the data's ``L``). See :mod:`vae_tf.evaluation.bits_per_dim`, which also
        gives the bound's parts (:func:`vae_tf.evaluation.evaluate_bits_per_dim`).
        """
        return evaluation.evaluate_bits_per_dim(self, x, num_levels=num_levels, k=k, seed=seed,
                                                verbose=verbose)["bits_per_dim"]

    # -- serialization -------------------------------------------------------

    def get_config(self):
        if self._prior is not None:
            raise NotImplementedError("A VAE with a custom prior cannot be serialized; re-create it in code.")
        config = super().get_config()
        config.update(
            encoder=keras.saving.serialize_keras_object(self.encoder),
            decoder=keras.saving.serialize_keras_object(self.decoder),
            likelihood=keras.saving.serialize_keras_object(self.likelihood),
            beta=self.beta_target,
            seed=self.seed,
            objective=self.objective,
            num_samples=self.num_samples,
            free_bits=self.free_bits,
        )
        return config

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
