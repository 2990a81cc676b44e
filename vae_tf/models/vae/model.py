"""The variational autoencoder (Kingma & Welling, 2014) as a subclassed Keras 3 model."""

import math

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import keras

from losses import NegativeLogLikelihood
from losses.reduction import reduce_per_example, scale_for_replicas, sum_over_event_dims
from vae_tf.progress_bar import with_step_counting_progress_bar
from vae_tf.validation import check_beta, check_images, check_positive_int, check_sample_weight

tfd = tfp.distributions

#: Steps run inside one compiled call by default: per-step Python and dispatch
#: overhead dominates a small VAE on a CPU, so several steps share one call.
DEFAULT_STEPS_PER_EXECUTION = 8


def standard_normal_prior(latent_dim, dtype=tf.float32):
    """``p(z) = N(0, I)`` over ``latent_dim`` units."""
    zeros = tf.zeros([latent_dim], dtype)
    return tfd.Independent(tfd.Normal(zeros, tf.ones_like(zeros)), reinterpreted_batch_ndims=1)


def diagonal_gaussian_kl(z_mean, z_log_var):
    """``KL(N(mu, diag sigma^2) || N(0, I))`` per example (Kingma & Welling, 2014, appendix B).

    Formula: ``0.5 * sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)``.
    """
    return 0.5 * tf.reduce_sum(tf.square(z_mean) + tf.exp(z_log_var) - 1.0 - z_log_var, axis=-1)


def reparameterized_sample(q, seed, sample_shape=()):
    """A reparameterised draw from ``q`` with the same law as ``q.sample(sample_shape, seed=seed)``.

    For ``q = Independent(Normal(mu, sigma))`` it computes ``z = mu + sigma * eps``,
    ``eps ~ N(0, I)`` drawn with the Philox generator named explicitly; any
    other ``q`` falls back to ``q.sample``. Why: TFP leaves the generator to
    TensorFlow's "auto-select", which under XLA on CPU cost about 30x Philox
    (3.9 ms against 0.13 ms for a 100x50 draw, more than the whole encoder).
    """
    base = getattr(q, "distribution", None)
    if not (isinstance(q, tfd.Independent) and type(base) is tfd.Normal):
        return q.sample(sample_shape, seed=seed)
    loc, scale = base.loc, base.scale
    batch_shape = tf.broadcast_dynamic_shape(tf.shape(loc), tf.shape(scale))
    shape = tf.concat([tf.reshape(tf.cast(sample_shape, tf.int32), [-1]), batch_shape], 0)
    eps = tf.random.stateless_normal(shape, seed=seed, dtype=loc.dtype, alg="philox")
    return loc + scale * eps


def flat_event_view(px, x):
    """``(p', x')``: ``px`` and ``x`` with the event flattened to one axis, ``log p'(x') = log p(x)``.

    Why: likelihood layers reshape their parameters to the image shape, e.g.
    ``(28, 28, 1)``, and XLA on CPU vectorises element-wise work along the
    minor axis, here of size 1: TFP's Bernoulli log-density ran at ~18 ns per
    pixel on that layout against ~7 ns on ``(rows, 784)``. ``(px, x)`` come back
    unchanged unless ``px`` is ``Independent`` over an element-wise distribution
    whose parameters all have the full ``(rows, *event_shape)`` shape.
    """
    if not isinstance(px, tfd.Independent) or x.shape.rank is None or x.shape.rank <= 2:
        return px, x
    base = px.distribution
    if base.batch_shape.rank != x.shape.rank or base.event_shape.rank != 0:
        return px, x
    rows = tf.shape(x)[0]
    flat = {}
    for name in type(base).parameter_properties():
        value = base.parameters.get(name)
        if value is None:
            continue
        value = tf.convert_to_tensor(value)
        if value.shape.rank != x.shape.rank:
            return px, x
        flat[name] = tf.reshape(value, (rows, -1))
    return tfd.Independent(base.copy(**flat), reinterpreted_batch_ndims=1), tf.reshape(x, (rows, -1))


class _KerasLossOnMean:
    """Adapts a Keras loss (``"mse"``, a function or a ``keras.losses.Loss``) to receive ``p.mean()``.

    Keras' string and function losses average over every value, as Keras does:
    ``"mse"`` is ``mean_d (x_d - mu_d)^2`` per example.
    """

    def __init__(self, loss):
        self.fn = keras.losses.get(loss) if isinstance(loss, str) else loss
        if not callable(self.fn):
            raise ValueError(f"Unknown loss {loss!r}.")

    def __call__(self, y_true, px, sample_weight=None):
        mean = tf.cast(px.mean(), y_true.dtype)
        if isinstance(self.fn, keras.losses.Loss):
            return self.fn(y_true, mean, sample_weight)
        values = tf.convert_to_tensor(self.fn(y_true, mean))
        axes = tf.range(1, tf.rank(values))
        return reduce_per_example(tf.reduce_mean(values, axis=axes), sample_weight)


@keras.saving.register_keras_serializable(package="vae_tf")
class VAE(keras.Model):
    """A VAE whose ``call`` returns the decoder distribution ``p(x | z)``, ``z ~ q(z | x)``.

    Training minimises ``loss(x, p(x|z)) + beta * KL(q(z|x) || p(z))`` averaged
    over the batch. The model adds the KL term itself (analytic when TFP knows
    it, e.g. diagonal Gaussians; a one-sample Monte-Carlo estimate otherwise), so
    the loss given to ``compile`` is only the reconstruction term:
    ``losses.NegativeLogLikelihood()`` (the default), ``losses.ScaledMSE``,
    ``losses.BinaryCrossentropy``, or any Keras loss, which then receives the
    mean of ``p(x|z)``.

    ``fit`` reports ``loss``, ``kl`` and ``reconstruction_nll``; the last is the
    true ``-log p(x|z)`` under the likelihood whatever loss trained the model,
    so runs with different losses can be compared on one scale.

    Args:
        encoder: a layer mapping ``x`` to ``q(z|x)`` (e.g. ``networks.mlp_encoder``).
        decoder: a layer mapping ``z`` to features (e.g. ``networks.mlp_decoder``).
        likelihood: a distribution layer (e.g. ``layers.IndependentNormal``).
        beta: weight of the KL term, >= 0 (1 gives the ELBO).
        prior: a TFP distribution over ``z``; default ``N(0, I)``. A custom
            prior is not saved with the model.
        seed: seed of the model's own random stream (the latent samples).
    """

    def __init__(self, encoder, decoder, likelihood, beta=1.0, prior=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.likelihood = likelihood
        self.beta = check_beta(beta)
        self._prior = prior
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed, name="latent_seed")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.reconstruction_nll_tracker = keras.metrics.Mean(name="reconstruction_nll")
        self._reconstruction_loss = NegativeLogLikelihood()

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
                steps_per_execution=None, **kwargs):
        """Keras ``compile`` with the fast path on by default.

        ``loss`` is the reconstruction term (default
        ``losses.NegativeLogLikelihood()``). ``jit_compile="auto"`` means XLA
        unless running eagerly or under a ``tf.distribute`` strategy (Keras
        itself turns XLA off on CPU-only machines; it pays off here).
        ``steps_per_execution=None`` means ``DEFAULT_STEPS_PER_EXECUTION``, or
        1 under a strategy: Keras 3.15's multi-step loop fails under
        ``MirroredStrategy`` ("You must feed a value for placeholder tensor").
        """
        distributed = self._under_strategy()
        if jit_compile == "auto":
            jit_compile = not kwargs.get("run_eagerly", False) and not distributed
        if steps_per_execution is None:
            steps_per_execution = 1 if distributed else DEFAULT_STEPS_PER_EXECUTION
        if loss is None:
            self._reconstruction_loss = NegativeLogLikelihood()
        elif getattr(loss, "accepts_distribution", False):
            self._reconstruction_loss = loss
        else:
            self._reconstruction_loss = _KerasLossOnMean(loss)
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, jit_compile=jit_compile,
                        steps_per_execution=steps_per_execution, **kwargs)

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
        q, z, px = self._forward(x, training=training)
        kl = self.kl_divergence(q, z)
        px_flat, target_flat = flat_event_view(px, target)
        nll = sum_over_event_dims(-px_flat.log_prob(target_flat))
        if getattr(self._reconstruction_loss, "accepts_distribution", False):
            # The package's losses sum over the event, so the flat view gives the same value, faster.
            reconstruction = self._reconstruction_loss(target_flat, px_flat, sample_weight)
        else:
            reconstruction = self._reconstruction_loss(target, px, sample_weight)
        loss = reconstruction + reduce_per_example(self.beta * kl, sample_weight)
        if self.losses:
            loss = loss + scale_for_replicas(tf.add_n(self.losses))
        return loss, (target, px, sample_weight, kl, nll)

    def _update_trackers(self, loss, extras):
        target, px, sample_weight, kl, nll = extras
        batch = tf.shape(target)[0]
        # `loss` is this replica's share of the global mean; report the replica's own mean.
        n = tf.distribute.get_strategy().num_replicas_in_sync
        self.loss_tracker.update_state(loss * n, sample_weight=batch)
        self.kl_tracker.update_state(kl, sample_weight=sample_weight)
        self.reconstruction_nll_tracker.update_state(nll, sample_weight=sample_weight)
        compiled = getattr(self, "_compile_metrics", None)
        if compiled is not None:
            compiled.update_state(target, px.mean(), sample_weight)
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

    def _ensure_built(self, x):
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
        The progress bar counts the steps that ran (``vae_tf.progress_bar``).
        """
        self._check_data(x, y, kwargs.get("sample_weight"))
        if validation_data is not None:
            if isinstance(validation_data, (tuple, list)):
                self._check_data(*keras.utils.unpack_x_y_sample_weight(tuple(validation_data)), where="validation_data: ")
            else:
                self._check_data(validation_data, where="validation_data: ")
        self._ensure_built(x)
        kwargs = with_step_counting_progress_bar(keras.Model.fit, args, kwargs)
        return super().fit(x, y, validation_data=validation_data, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        """Keras ``evaluate``, with the data checked first as in :meth:`fit`."""
        self._check_data(x, y, kwargs.get("sample_weight"))
        self._ensure_built(x)
        return super().evaluate(x, y, **with_step_counting_progress_bar(keras.Model.evaluate, args, kwargs))

    def predict(self, x, *args, **kwargs):
        self._check_data(x)
        self._ensure_built(x)
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
        """Per-example ELBO in nats, one latent sample: ``log p(x|z) - KL(q(z|x) || p(z))`` (beta = 1)."""
        batch_size = check_positive_int(batch_size, "batch_size")
        x = check_images(x, self.likelihood)
        self._ensure_built(x)
        fn = self._compiled("elbo", lambda xb: self._elbo_batch(xb))
        return np.concatenate([fn(tf.constant(x[i:i + batch_size])).numpy() for i in range(0, len(x), batch_size)])

    def _elbo_batch(self, x):
        q, z, px = self._forward(x, training=False)
        return px.log_prob(tf.cast(x, tf.float32)) - self.kl_divergence(q, z)

    def iwae_log_likelihood(self, x, k=5000, batch_size=None, max_rows=32768, seed=0, verbose=0):
        """Importance-weighted estimate of ``log p(x)`` per example (Burda et al., 2015).

        Formula: ``log (1/k) sum_{i=1..k} p(x|z_i) p(z_i) / q(z_i|x)``, ``z_i ~ q(z|x)``;
        a lower bound on ``log p(x)`` that tightens as ``k`` grows (``k=1`` is the ELBO).

        The ``k`` samples are drawn in chunks of at most ``max_rows`` decoder
        rows and combined with a running log-sum-exp, so memory does not grow with ``k``.
        """
        k = check_positive_int(k, "k")
        max_rows = check_positive_int(max_rows, "max_rows")
        if batch_size is not None:
            batch_size = check_positive_int(batch_size, "batch_size")
        x = check_images(x, self.likelihood)
        self._ensure_built(x)
        if batch_size is None:
            batch_size = max(1, max_rows // k)
        chunk = max(1, min(k, max_rows // batch_size))
        fn = self._compiled("iwae", self._iwae_log_weights, jit_compile=True)
        rng = np.random.default_rng(seed)
        out = []
        progbar = keras.utils.Progbar(len(x), unit_name="example") if verbose else None
        for start in range(0, len(x), batch_size):
            xb = tf.constant(x[start:start + batch_size])
            total = None
            for done in range(0, k, chunk):
                n = min(chunk, k - done)
                seed_t = tf.constant(rng.integers(0, 2**31 - 1, size=2), tf.int32)
                lse = fn(xb, tf.constant(n), seed_t)
                total = lse if total is None else tf.experimental.numpy.logaddexp(total, lse)
            out.append((total - math.log(k)).numpy())
            if progbar is not None:
                progbar.add(len(xb))
        return np.concatenate(out)

    def _iwae_log_weights(self, x, n, seed):
        """``logsumexp_i log w_i`` over ``n`` samples per example of ``x``."""
        q = self.encode(x)
        z = reparameterized_sample(q, seed, sample_shape=n)  # (n, batch, latent)
        b = tf.shape(x)[0]
        px = self.decode(tf.reshape(z, (-1, self.latent_dim)))
        x_rep = tf.reshape(tf.broadcast_to(tf.cast(x, tf.float32)[None], tf.concat([[n], tf.shape(x)], 0)),
                           tf.concat([[-1], tf.shape(x)[1:]], 0))
        px_flat, x_flat = flat_event_view(px, x_rep)
        log_px = tf.reshape(px_flat.log_prob(x_flat), (n, b))
        log_w = log_px + self.prior().log_prob(z) - q.log_prob(z)
        return tf.reduce_logsumexp(log_w, axis=0)

    def _compiled(self, key, fn, jit_compile=False):
        cache = self.__dict__.setdefault("_tf_function_cache", {})
        if key not in cache:
            cache[key] = tf.function(fn, jit_compile=jit_compile, reduce_retracing=True)
        return cache[key]

    # -- serialization -------------------------------------------------------

    def get_config(self):
        if self._prior is not None:
            raise NotImplementedError("A VAE with a custom prior cannot be serialized; re-create it in code.")
        config = super().get_config()
        config.update(
            encoder=keras.saving.serialize_keras_object(self.encoder),
            decoder=keras.saving.serialize_keras_object(self.decoder),
            likelihood=keras.saving.serialize_keras_object(self.likelihood),
            beta=self.beta,
            seed=self.seed,
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("encoder", "decoder", "likelihood"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
