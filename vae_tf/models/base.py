"""What every model family here shares: a Keras 3 model whose decoder is a TFP distribution, trained on an objective
whose reconstruction term is the loss given to ``compile``, checked input, and one way to be scored.

A family (``models/vae``, ...) subclasses :class:`LatentVariableModel` and provides::

    networks()                                   its Keras layers, for the precision and XLA choices
    objective_terms(x, target, w, training)      one batch's :class:`~vae_tf.objectives.ObjectiveTerms`
    per_example_elbo(x)                          the ELBO per example (beta = 1), traceable
    log_importance_weights(x, num_samples, seed) ``log w`` of ``num_samples`` draws of all latents, (k, batch)
    latent_summary(x)                            per latent layer its KL per example; the posterior means
    with_scored_sigma(sigma, x_example)          a twin with the same weights, scored at a fixed sigma
    reconstruct(x), sample(n, seed)              means of p(x | z)

and may refine ``choose_precision`` / ``set_precision`` (which layers stay float32), ``apply_gradients``,
``values_per_row`` (memory per IWAE row) and ``describe``.

and :mod:`vae_tf.evaluation`, ``vae_tf.compare``, the exporter and the coder work with it.
"""

import json
import zipfile

import numpy as np
import tensorflow as tf
import keras

from vae_tf import evaluation, losses
from vae_tf.callbacks.progress import with_step_counting_progress_bar
from vae_tf.errors import InvalidInputError, UnsupportedModelError
from vae_tf.losses import scale_for_replicas
from vae_tf.networks import choose_precision, has_convolutions, network_precision, set_network_precision
from vae_tf.reconstruction import check_log_density_loss, check_loss_trains_scale, reconstruction_loss_for
from vae_tf.validation import check_beta, check_images, check_sample_weight

#: Steps run inside one compiled call by default: per-step Python and dispatch
#: overhead dominates a small VAE on a CPU, so several steps share one call.
DEFAULT_STEPS_PER_EXECUTION = 8


# -- what every family is given: checked when it is built, said in one line ---------------------------------

def check_likelihood(likelihood):
    """Raises :class:`~vae_tf.errors.InvalidInputError` unless ``likelihood`` is a distribution layer."""
    if not (callable(likelihood) and hasattr(likelihood, "event_shape") and hasattr(likelihood, "num_params")):
        raise InvalidInputError(
            f"likelihood must be a vae_tf.layers distribution layer that turns the decoder's output into p(x|z) "
            f"(e.g. vae_tf.layers.IndependentNormal(event_shape)), got {type(likelihood).__name__}.")


class LatentVariableModel(keras.Model):
    """The shared machinery of the model families: the KL weight, the seed stream, ``compile``, the training
    step, checked ``fit`` / ``evaluate`` / ``predict``, and the scores (:meth:`elbo`, :meth:`iwae_log_likelihood`,
    :meth:`bits_per_dim`).

    Args:
        likelihood: the decoder's distribution layer (e.g. ``layers.IndependentNormal``).
        beta: weight of the KL term, >= 0 (1 gives the ELBO). It initialises the non-trainable variable
            ``model.beta``, which schedules such as ``vae_tf.callbacks.KLWarmup`` move during training (towards
            this value, kept as ``model.beta_target``); ``fit`` reports it as ``beta``.
        seed: seed of the model's own random stream (the latent samples).
    """

    def __init__(self, likelihood, beta=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        check_likelihood(likelihood)
        self.likelihood = likelihood
        self.beta_target = check_beta(beta)
        # A variable, not a Python float: a compiled (XLA) step reads its current value, so a
        # schedule can move it without retracing; it is saved and restored with the weights.
        self.beta = self.add_weight(shape=(), dtype="float32", trainable=False, name="beta",
                                    initializer=keras.initializers.Constant(self.beta_target))
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed, name="latent_seed")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.reconstruction_nll_tracker = keras.metrics.Mean(name="reconstruction_nll")
        # The KL weight the steps used (the loss includes beta KL), averaged over the epoch while a schedule moves
        # it: a metric like the others, so Keras reports and tf.distribute reduces it as it does them.
        self.beta_tracker = keras.metrics.Mean(name="beta")
        self.reconstruction_loss = losses.NegativeLogLikelihood()
        # None: p(x|z) is scored as the likelihood layer gives it. A float: the loss given to compile trains only
        # the decoder's mean, and every score is taken at this sigma (vae_tf.reconstruction.check_loss_trains_scale).
        self.scored_sigma = None

    @property
    def event_shape(self):
        return tuple(self.likelihood.event_shape)

    def networks(self):
        """The model's network layers (what :attr:`precision` and :meth:`prefers_xla` look at)."""
        raise NotImplementedError

    def describe(self):
        """One line for reports: the family and its latent units."""
        return f"{type(self).__name__}, {self.latent_dim} latent units"

    def values_per_row(self):
        """Floats one row of an IWAE chunk holds at most (:func:`vae_tf.evaluation.rows_per_chunk`): the
        likelihood's parameters, unless the family holds more per row."""
        return int(self.likelihood.values_per_row())

    @classmethod
    def load(cls, path):
        """The model of this family saved at ``path`` (a ``.keras`` file).

        Raises :class:`~vae_tf.errors.UnsupportedModelError` in one line, before building anything, when the file
        holds a model of another class (``cls`` is the family asked for; ``LatentVariableModel.load`` takes any).
        """
        try:
            with zipfile.ZipFile(path) as archive:
                saved = json.loads(archive.read("config.json")).get("class_name")
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
            raise InvalidInputError(f"{path!r} is not a readable .keras model file ({error}).") from None
        wanted = {c.__name__ for c in _subclasses(cls)} | {cls.__name__}
        if saved not in wanted:
            raise UnsupportedModelError(f"{path!r} holds a {saved}, not a {cls.__name__}: load it with "
                                        f"keras.saving.load_model, or give a {cls.__name__} file.")
        return keras.saving.load_model(path)

    def _next_seed(self):
        seed = tf.cast(self.seed_generator.next(), tf.int32)
        replica = tf.distribute.get_replica_context()
        if replica is not None and replica.num_replicas_in_sync > 1:
            # Every replica advances the same mirrored seed state in lockstep, so
            # without this all replicas would draw the same noise for their
            # different examples (correlated gradients, not an i.i.d. batch).
            seed = tf.random.experimental.stateless_fold_in(seed, replica.replica_id_in_sync_group)
        return seed

    # -- training ------------------------------------------------------------

    def compile(self, optimizer="adam", loss=None, metrics=None, jit_compile="auto",
                steps_per_execution=None, precision=None, **kwargs):
        """Keras ``compile`` with the fast path on by default.

        ``loss`` is the reconstruction term (default ``losses.NegativeLogLikelihood()``); the package's losses
        receive the decoder distribution, any other Keras loss its mean. A loss that trains only the mean of a
        Gaussian whose sigma is learned (``ScaledMSE``, Keras' ``"mse"``) leaves that sigma untrained: a
        ``UserWarning`` says so, and the model is scored at the sigma the loss implies (``scored_sigma``,
        :func:`vae_tf.reconstruction.check_loss_trains_scale`). ``jit_compile="auto"`` means XLA
        unless running eagerly, under a ``tf.distribute`` strategy, or when the networks hold a convolution
        (:meth:`prefers_xla`). ``steps_per_execution=None`` means ``DEFAULT_STEPS_PER_EXECUTION``, or 1 under
        a strategy: Keras 3.15's multi-step loop fails under ``MirroredStrategy`` ("You must feed a value for
        placeholder tensor").

        ``precision`` is the networks' arithmetic (:mod:`vae_tf.networks.precision`): ``None`` (the default,
        as for every Keras model: the layers keep the policies they were built with, i.e. the user's
        ``keras.config.dtype_policy()``), ``"float32"``, ``"mixed_bfloat16"`` (hidden layers in bfloat16; the
        layers that output distribution parameters, and the likelihood, in float32), or ``"auto"`` (bfloat16 for
        conv and resnet networks on a CPU that computes it natively, float32 otherwise; a global Keras policy
        other than float32 is left to rule; what ``vae-tf train`` and ``compare`` use). :attr:`precision` says
        which the networks got.
        """
        distributed = self._under_strategy()
        if jit_compile == "auto":
            jit_compile = not kwargs.get("run_eagerly", False) and not distributed and self.prefers_xla()
        if steps_per_execution is None:
            steps_per_execution = 1 if distributed else DEFAULT_STEPS_PER_EXECUTION
        if precision == "auto" and keras.config.dtype_policy().name != "float32":
            precision = None
        if precision is not None:
            chosen = self.choose_precision(precision)
            # float32 over float32 is no change; skipping it leaves a user's own per-layer policies alone.
            if chosen != "float32" or self.precision != "float32":
                self.set_precision(chosen)
        reconstruction_loss = reconstruction_loss_for(loss)
        if getattr(self, "num_samples", 1) > 1:  # importance weights need -log p(x|z) itself
            check_log_density_loss(reconstruction_loss, self.likelihood)
        self.reconstruction_loss = reconstruction_loss
        self.scored_sigma = check_loss_trains_scale(reconstruction_loss, self.likelihood)
        # What the model scores may have changed: the compiled evaluation passes kept with it are stale.
        self.__dict__.pop("_vae_tf_cache", None)
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, jit_compile=jit_compile,
                        steps_per_execution=steps_per_execution, **kwargs)

    @property
    def precision(self):
        """``"mixed_bfloat16"`` if a layer of the networks computes in bfloat16, else ``"float32"``."""
        return network_precision(*self.networks())

    def choose_precision(self, precision):
        """``"float32"`` or ``"mixed_bfloat16"`` for ``compile(precision=...)`` (:func:`vae_tf.networks.choose_precision`)."""
        return choose_precision(*self.networks(), precision)

    def set_precision(self, policy):
        """Gives the networks ``policy``, the layers that output distribution parameters float32
        (:func:`vae_tf.networks.set_network_precision`)."""
        set_network_precision(*self.networks(), policy)

    def prefers_xla(self):
        """Whether XLA trains this model faster than TensorFlow's graph mode: yes for dense networks, no with convolutions.

        Measured by ``benchmarks/model_throughput.py`` on a CPU: XLA fuses the MLP's element-wise
        ops and the ELBO's (Keras itself turns XLA off on CPU-only machines; for the MLP it pays off),
        but XLA's CPU convolutions are slower than the oneDNN kernels graph mode calls, which for a
        conv or resnet VAE outweighs the fusion.
        """
        return not has_convolutions(*self.networks())

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
        tracked = [self.loss_tracker, self.kl_tracker, self.reconstruction_nll_tracker, self.beta_tracker]
        compiled = getattr(self, "_compile_metrics", None)
        return tracked + ([compiled] if compiled is not None else [])

    def objective_terms(self, x, target, sample_weight=None, training=None):
        """One batch's :class:`~vae_tf.objectives.ObjectiveTerms` (the family's objective)."""
        raise NotImplementedError

    def latent_summary(self, x):
        """``([KL_i per example, (batch,)] per latent layer, posterior means (batch, latent units))`` of a batch:
        what :func:`vae_tf.evaluation.kl_and_active_units` reports."""
        raise NotImplementedError

    def with_scored_sigma(self, sigma, x_example):
        """A model of this class with this model's networks or weights and likelihood, scored as the same kind of
        Gaussian centred at the decoder's means with a fixed ``sigma`` (:func:`vae_tf.evaluation.with_fixed_sigma`)."""
        raise NotImplementedError

    def _losses_and_metrics(self, data, training):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        target = tf.cast(x if y is None else y, "float32")
        terms = self.objective_terms(x, target, sample_weight, training=training)
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
        self.beta_tracker.update_state(self.beta)
        logs = self.get_metrics_result()
        # Keras 3 reduces step outputs across workers with strategy.reduce(MEAN, v, axis=0),
        # which fails on scalars (tensorflow/tensorflow#72388); a (1,) vector reduces to the scalar.
        if getattr(self.distribute_strategy.extended, "_in_multi_worker_mode", lambda: False)():
            return {name: tf.reshape(value, [1]) for name, value in logs.items()}
        return logs

    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss, extras = self._losses_and_metrics(data, training=True)
            scaled = self.optimizer.scale_loss(loss)
        grads = tape.gradient(scaled, self.trainable_variables)
        self.apply_gradients(grads)
        return self._update_trackers(loss, extras)

    def apply_gradients(self, grads):
        """One optimizer update of the trainable variables (a family may skip outliers)."""
        self.optimizer.apply(grads, self.trainable_variables)

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
            spec = x.element_spec[0] if isinstance(x.element_spec, tuple) else x.element_spec
            shape = tf.TensorShape(spec.shape)
        else:
            shape = tf.TensorShape(np.shape(x))
        # Variables must be created under the strategy the model was created in
        # (fit may be called outside `strategy.scope()`), or they are not mirrored.
        with self.distribute_strategy.scope():
            self.build(shape)

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, **kwargs):
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
        return super().fit(x, y, batch_size=batch_size, epochs=epochs, verbose=verbose,
                           callbacks=with_step_counting_progress_bar(callbacks, verbose),
                           validation_split=validation_split, validation_data=validation_data, **kwargs)

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None, callbacks=None,
                 **kwargs):
        """Keras ``evaluate``, with the data checked first as in :meth:`fit`."""
        self._check_data(x, y, sample_weight)
        self.ensure_built(x)
        return super().evaluate(x, y, batch_size=batch_size, verbose=verbose, sample_weight=sample_weight, steps=steps,
                                callbacks=with_step_counting_progress_bar(callbacks, verbose), **kwargs)

    def predict(self, x, *args, **kwargs):
        self._check_data(x)
        self.ensure_built(x)
        return super().predict(x, *args, **kwargs)

    # -- scores (vae_tf.evaluation) ------------------------------------------

    def elbo(self, x, batch_size=1000):
        """Per-example ELBO in nats, one latent sample, ``beta = 1`` (:func:`vae_tf.evaluation.elbo`)."""
        return evaluation.elbo(self, x, batch_size=batch_size)

    def iwae_log_likelihood(self, x, k=5000, batch_size=None, max_rows=None, seed=0, verbose=0):
        """Importance-weighted estimate of ``log p(x)`` per example (Burda et al., 2015).

        Formula: ``log (1/k) sum_{i=1..k} w_i`` with ``w_i = p(x, z_i) / q(z_i | x)`` for ``k`` draws of all the
        latents from the posterior; a lower bound on ``log p(x)`` that tightens as ``k`` grows (``k=1`` is the
        ELBO). Drawn in chunks of at most ``max_rows`` decoder rows and combined with a running log-sum-exp, so
        memory does not grow with ``k`` (:func:`vae_tf.evaluation.iwae_log_likelihood`).
        """
        return evaluation.iwae_log_likelihood(self, x, k=k, batch_size=batch_size, max_rows=max_rows, seed=seed,
                                              verbose=verbose)

    def bits_per_dim(self, x, k=1000, seed=0, verbose=0):
        """Bits per dimension of grey-level images ``x = k / (L - 1)``: ``-log2 P(k) / D``, averaged.

        ``P(k)`` comes from :meth:`iwae_log_likelihood` with ``k`` samples: exact for a decoder over the levels
        (discretized layers, Bernoulli on binary ``x``); for a continuous density, the dequantized bound
        ``E_u[log p((k + u) / L)] - D log L`` on one fixed draw from ``seed``, with ``L`` the layer's
        ``num_levels`` (:func:`vae_tf.evaluation.evaluate_bits_per_dim` also gives the bound's parts).
        """
        return evaluation.evaluate_bits_per_dim(self, x, k=k, seed=seed, verbose=verbose)["bits_per_dim"]

    def get_config(self):
        return {**super().get_config(), "likelihood": keras.saving.serialize_keras_object(self.likelihood),
                "beta": self.beta_target, "seed": self.seed}


def _subclasses(cls):
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found
