"""A top-down hierarchical VAE with spatial Gaussian latents (ladder VAE / NVAE / VDVAE family).

Generative model, ``L`` latent images ``z_0`` (top, coarsest) .. ``z_{L-1}`` (bottom, finest)::

    p(x, z) = p(x | z) prod_i p(z_i | z_<i),        p(z_i | z_<i) = N(mu_p_i(h_i), sigma_p_i(h_i))

with ``h_i`` the top-down features after ``z_0 .. z_{i-1}``. Inference shares the top-down path and adds a
deterministic bottom-up path ``e = f(x)`` (Sønderby et al. 2016; Kingma et al. 2016; Vahdat & Kautz 2020;
Child 2021)::

    q(z | x) = prod_i q(z_i | z_<i, x),              q(z_i | z_<i, x) = N(mu_q_i(h_i, e), sigma_q_i(h_i, e))

Both are diagonal Gaussians per latent unit, so each layer's KL is analytic given the layers above::

    ELBO(x) = E_q[log p(x | z)] - sum_i E_q[KL(q(z_i | z_<i, x) || p(z_i | z_<i))]

(one sample of the whole hierarchy; each KL summed over the layer's ``h x w x c`` units).

For bits-back coding the model gives, per latent layer, the conditional prior and posterior parameters under
teacher forcing (:meth:`HierarchicalVAE.layer_parameters`, all ``z`` given) and the top-down pass one layer at
a time (:meth:`initial_state`, :meth:`layer_prior`, :meth:`layer_posterior`, :meth:`layer_absorb`,
:meth:`output_distribution`).
"""

import math

import numpy as np
import tensorflow as tf
import keras

from vae_tf.errors import InvalidInputError, check_positive_int
from vae_tf.losses import reduce_per_example, scale_for_replicas, sum_over_event_dims
from vae_tf.models.base import LatentVariableModel
from vae_tf.models.hierarchical.cells import (LatentLayer, LayerTerms, ResidualCell, _conv, depth_to_space,
                                              space_to_depth, total_cells)
from vae_tf.models.hierarchical.config import HierarchicalVAEConfig
from vae_tf.models.hierarchical.updates import apply_unless_outlier
from vae_tf.networks import PRECISIONS, bfloat16_pays_off, params_per_pixel, set_layers_precision
from vae_tf.objectives import ObjectiveTerms, flat_event_view
from vae_tf.reconstruction import reconstruction_term, scored_likelihood

#: How a top-down pass picks each ``z_i`` when the latents are not given.
PASS_MODES = ("sample", "mean")


def _upsample(h, times):
    """Nearest-neighbour upsampling by ``2**times``."""
    for _ in range(times):
        h = tf.repeat(tf.repeat(h, 2, axis=1), 2, axis=2)
    return h


@keras.saving.register_keras_serializable(package="vae_tf")
class HierarchicalVAE(LatentVariableModel):
    """A hierarchical VAE whose ``call`` returns ``p(x | z)``, ``z ~ q(z | x)`` (all latent layers).

    Training minimises ``loss(x, p(x|z)) + beta * sum_i KL_i`` averaged over the batch, ``KL_i`` the analytic
    KL of layer ``i`` given one sample of the layers above; the loss given to ``compile`` is only the
    reconstruction term, as for :class:`vae_tf.VAE`. ``fit`` reports ``loss``, ``kl`` (all layers), ``kl_0`` ..
    ``kl_{L-1}`` (top first), ``reconstruction_nll`` (the true ``-log p(x|z)``) and ``beta``.

    Args:
        config: a :class:`HierarchicalVAEConfig` (or its dict); default ``HierarchicalVAEConfig()``.
        likelihood: a likelihood layer of :mod:`vae_tf.layers` over ``(H, W, C)`` images built with
            ``project=False``; the network outputs :func:`vae_tf.networks.params_per_pixel` numbers per pixel.
        beta: the KL weight (a non-trainable variable, as in ``VAE``, so KL warm-ups move it).
        seed: seed of the model's own random stream (the latent samples).
    """

    def __init__(self, config=None, likelihood=None, beta=1.0, seed=None, **kwargs):
        if config is None:
            config = HierarchicalVAEConfig()
        elif isinstance(config, dict):
            config = HierarchicalVAEConfig.from_dict(config)
        if likelihood is None:
            raise InvalidInputError("HierarchicalVAE needs a likelihood layer, e.g. "
                                    "vae_tf.layers.IndependentDiscretizedLogisticMixture((32, 32, 3), project=False).")
        if getattr(likelihood, "projection", None) is not None:
            raise InvalidInputError(f"HierarchicalVAE: build the likelihood with project=False (the network outputs "
                                    f"its parameters per pixel), got {type(likelihood).__name__} with project=True.")
        super().__init__(likelihood, beta=beta, seed=seed, **kwargs)
        self.config = config
        self.latent_shapes = config.latent_shapes_for(likelihood.event_shape)
        h, w, _ = self.event_shape
        p = config.patch_size
        self._finest = (h // p, w // p)
        # Bottom-up levels: level s has sides (h / p) / 2**s; one per resolution down to the coarsest latent.
        self._latent_levels = [int(round(math.log2(self._finest[0] // shape[0]))) for shape in self.latent_shapes]
        self.num_resolutions = max(self._latent_levels) + 1
        hidden = config.cell_width or config.width
        depth = total_cells(len(self.latent_shapes), config.decoder_cells, config.output_cells)

        self.stem = _conv(config.width, 3, "stem")
        self.encoder_cells = [ResidualCell(config.width, hidden, config.activation,
                                           config.encoder_cells * self.num_resolutions, name=f"encoder_level{s}_cell{j}")
                              for s in range(self.num_resolutions) for j in range(config.encoder_cells)]
        top = self.latent_shapes[0]
        self.top_state = self.add_weight(shape=(top[0], top[1], config.width), initializer="zeros", name="top_state")
        self.latent_layers = []
        level = self._latent_levels[0]
        for i, shape in enumerate(self.latent_shapes):
            self.latent_layers.append(LatentLayer(
                shape, config.width, hidden, config.activation, config.posterior, config.min_scale,
                cells=config.decoder_cells, upsample=level - self._latent_levels[i], num_cells=depth,
                soft_clamp=config.soft_clamp, name=f"latent_layer{i}"))
            level = self._latent_levels[i]
        self._output_upsample = level
        self.output_cells = [ResidualCell(config.width, hidden, config.activation, depth, name=f"output_cell{j}")
                             for j in range(config.output_cells)]
        self.output_conv = _conv(p * p * params_per_pixel(likelihood), 1, "output")
        self.layer_kl_trackers = [keras.metrics.Mean(name=f"kl_{i}") for i in range(len(self.latent_shapes))]
        # With update skipping on, the logs say how large the gradients were and how many updates were skipped.
        skips = config.skip_gradient_norm > 0 or config.skip_gradient_factor > 0
        self.skip_trackers = [keras.metrics.Mean(name="grad_norm"), keras.metrics.Mean(name="skipped")] if skips else []
        if config.skip_gradient_factor > 0:
            self.running_grad_norm = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                                     name="running_grad_norm")
            self.applied_updates = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                                   name="applied_updates")

    # -- structure -----------------------------------------------------------

    @property
    def num_latent_layers(self):
        return len(self.latent_shapes)

    @property
    def latent_dim(self):
        """The number of latent units in the whole hierarchy, ``sum_i h_i w_i c_i``."""
        return int(sum(np.prod(s) for s in self.latent_shapes))

    def describe(self):
        """One line: ``"hierarchical VAE, 4 latent layers 8x8x8, 8x8x8, 16x16x8, 16x16x8 (4096 units), width 64"``."""
        shapes = ", ".join("x".join(map(str, s)) for s in self.latent_shapes)
        n = self.num_latent_layers
        return (f"hierarchical VAE, {n} latent layer{'s' if n > 1 else ''} {shapes} ({self.latent_dim} units), "
                f"width {self.config.width}")

    def networks(self):
        return (self.stem, *self.encoder_cells, *self.latent_layers, *self.output_cells, self.output_conv)

    def build(self, input_shape):
        # Build every sub-layer with one concrete pass (the likelihood returns a distribution, which Keras'
        # symbolic build cannot trace); the latent layers are entered through their methods, not called.
        x = tf.zeros((1,) + tuple(int(d) for d in input_shape[1:]))
        for layer in self.latent_layers:
            layer.build((1,) + tuple(layer.shape[:2]) + (self.config.width,))
        self.top_down(1, self.bottom_up(x), mode="mean")
        super().build(input_shape)

    def values_per_row(self):
        """Floats one row of an IWAE chunk holds at most: the likelihood's parameters, or a few feature images of
        the finest resolution (what :func:`vae_tf.evaluation.rows_per_chunk` sizes chunks by)."""
        features = 8 * self.config.width * self._finest[0] * self._finest[1]
        return max(int(self.likelihood.values_per_row()), features)

    # -- the bottom-up path --------------------------------------------------

    def bottom_up(self, x, training=None):
        """The deterministic bottom-up features, one ``(batch, h_s, w_s, width)`` float32 tensor per level ``s``
        (the finest, ``(H/p, W/p)``, first; each next one at half the resolution)."""
        x = tf.cast(x, tf.float32)
        h = tf.cast(self.stem(space_to_depth(x, self.config.patch_size)), tf.float32)
        features = []
        per_level = self.config.encoder_cells
        for s in range(self.num_resolutions):
            if s > 0:
                h = tf.nn.avg_pool2d(h, 2, 2, "VALID")
            for cell in self.encoder_cells[s * per_level:(s + 1) * per_level]:
                h = cell(h)
            features.append(h)
        return features

    # -- the top-down path, one layer at a time ------------------------------

    def initial_state(self, batch_size):
        """The top-down features before the first (top) latent layer: a learned image, ``(batch, h_0, w_0, width)``."""
        return tf.tile(tf.cast(self.top_state, tf.float32)[None], [batch_size, 1, 1, 1])

    def layer_prior(self, i, h):
        """``(h_i, (mu_p, sigma_p))``: layer ``i``'s entered features and ``p(z_i | z_<i)`` from the features ``h``
        after the layers above (:meth:`initial_state` for ``i = 0``)."""
        layer = self.latent_layers[i]
        h = layer.enter(h)
        return h, layer.prior(h)

    def layer_posterior(self, i, h, features, prior):
        """``(mu_q, sigma_q)`` of ``q(z_i | z_<i, x)`` from the entered features ``h`` (:meth:`layer_prior`), the
        bottom-up ``features`` (:meth:`bottom_up`, all levels) and the prior's ``(mu_p, sigma_p)``."""
        return self.latent_layers[i].posterior(h, features[self._latent_levels[i]], prior)

    def layer_absorb(self, i, h, z):
        """The top-down features after layer ``i`` has taken ``z_i``: the input of layer ``i + 1``'s :meth:`layer_prior`."""
        return self.latent_layers[i].absorb(h, tf.cast(z, tf.float32))

    def output_distribution(self, h, training=None):
        """``p(x | z)`` from the features after the last latent layer."""
        h = _upsample(h, self._output_upsample)
        for cell in self.output_cells:
            h = cell(h)
        activation = keras.activations.get(self.config.activation)
        params = self.output_conv(activation(tf.cast(h, self.output_conv.compute_dtype)))
        return self.likelihood(depth_to_space(tf.cast(params, tf.float32), self.config.patch_size))

    def top_down(self, batch_size, features=None, latents=None, mode="sample", seed=None, training=None, noise=None):
        """``([LayerTerms per layer, top first], p(x | z))``: one top-down pass.

        Layer ``i``'s ``z_i`` is ``latents[i]`` when ``latents`` are given (teacher forcing), else a draw
        (``mode="sample"``, reparameterised, ``z_i = loc + scale * eps_i``) or the mean (``mode="mean"``) of the
        posterior when bottom-up ``features`` are given, of the prior otherwise. ``eps_i`` is ``noise(i, loc)``
        when ``noise`` is given, else drawn from the stateless ``seed`` folded with ``i``.
        """
        if mode not in PASS_MODES:
            raise InvalidInputError(f"mode must be one of {PASS_MODES}, got {mode!r}.")
        h = self.initial_state(batch_size)
        terms = []
        for i in range(self.num_latent_layers):
            h, prior = self.layer_prior(i, h)
            posterior = self.layer_posterior(i, h, features, prior) if features is not None else (None, None)
            loc, scale = posterior if features is not None else prior
            if latents is not None:
                z = tf.cast(latents[i], tf.float32)
            elif mode == "mean":
                z = loc
            elif noise is not None:
                z = loc + scale * noise(i, loc)
            else:
                noise_seed = tf.random.experimental.stateless_fold_in(seed, i)
                z = loc + scale * tf.random.stateless_normal(tf.shape(loc), seed=noise_seed, alg="philox")
            terms.append(LayerTerms(prior[0], prior[1], posterior[0], posterior[1], z))
            h = self.layer_absorb(i, h, z)
        return terms, self.output_distribution(h, training=training)

    def layer_parameters(self, x, latents):
        """Teacher forcing: every layer's ``LayerTerms`` (prior, posterior, ``z_i = latents[i]``) for images ``x``."""
        x = tf.convert_to_tensor(x, tf.float32)
        terms, _ = self.top_down(tf.shape(x)[0], self.bottom_up(x), latents=latents)
        return terms

    def _posterior_pass(self, x, seed=None, training=None):
        x = tf.cast(x, tf.float32)
        seed = self._next_seed() if seed is None else seed
        return self.top_down(tf.shape(x)[0], self.bottom_up(x, training=training), seed=seed, training=training)

    def call(self, x, training=None):
        """``p(x | z)`` with ``z ~ q(z | x)``: one reparameterised sample of every latent layer."""
        return self._posterior_pass(x, training=training)[1]

    # -- what the base class asks of a family --------------------------------

    def _log_px(self, px, target):
        """``(log p(x|z) per example as the model is scored, p(x|z) and x on the flat event layout)``."""
        px_flat, x_flat = flat_event_view(px, tf.cast(target, tf.float32))
        return sum_over_event_dims(scored_likelihood(self, px_flat).log_prob(x_flat)), px_flat, x_flat

    def per_example_log_likelihood(self, px, x):
        """``log p(x|z)`` per example, ``(batch,)``, of the decoder distribution ``px`` (as the model is scored)."""
        return self._log_px(px, x)[0]

    def _kl_term(self, kls, sample_weight):
        """``beta sum_i KL_i`` averaged over the batch; with free bits ``lambda``, each layer's batch-averaged KL
        floored at ``lambda`` times its number of units (free bits per group)."""
        beta = tf.cast(self.beta, tf.float32)
        if self.config.free_bits <= 0:
            return reduce_per_example(beta * tf.add_n(kls), sample_weight)
        floored = []
        for kl, shape in zip(kls, self.latent_shapes):
            if sample_weight is not None:
                kl = kl * tf.cast(tf.reshape(sample_weight, (-1,)), kl.dtype)
            mean = tf.reduce_sum(kl) / tf.cast(tf.shape(kl)[0], kl.dtype)
            floored.append(tf.maximum(mean, self.config.free_bits * float(np.prod(shape))))
        return scale_for_replicas(beta * tf.add_n(floored))

    def objective_terms(self, x, target, sample_weight=None, training=None):
        """``reconstruction(x, p(x|z)) + beta sum_i KL_i`` at one sample of the hierarchy, per-layer KL in
        ``layer_kls``."""
        terms, px = self._posterior_pass(x, training=training)
        log_px, px_flat, x_flat = self._log_px(px, target)
        kls = [t.kl() for t in terms]
        reconstruction = reconstruction_term(self.reconstruction_loss, target, px, x_flat, px_flat, sample_weight)
        return ObjectiveTerms(loss=reconstruction + self._kl_term(kls, sample_weight), kl=tf.add_n(kls),
                              reconstruction_nll=-log_px, decoder_mean=px.mean, layer_kls=kls)

    def batch_elbo(self, x, seed=None, training=None):
        """``(log p(x|z), [KL_i])`` per example at one sample ``z ~ q(z|x)``: the ELBO is ``log p(x|z) - sum_i KL_i``."""
        terms, px = self._posterior_pass(x, seed=seed, training=training)
        return self._log_px(px, x)[0], [t.kl() for t in terms]

    def per_example_elbo(self, x):
        """``log p(x|z) - sum_i KL(q(z_i|z_<i,x) || p(z_i|z_<i))`` per example, one sample of the hierarchy."""
        log_px, kls = self.batch_elbo(x, training=False)
        return log_px - tf.add_n(kls)

    def log_importance_weights(self, x, num_samples, seed):
        """``log w`` for ``num_samples`` samples of the whole hierarchy per example, ``(num_samples, batch)``::

            log w = log p(x | z) + sum_i [log p(z_i | z_<i) - log q(z_i | z_<i, x)],     z ~ q(z | x)

        ``seed`` is a stateless ``(2,)`` seed. The bottom-up pass runs once per example; the top-down pass on
        ``num_samples * batch`` rows.
        """
        x = tf.cast(x, tf.float32)
        batch, k = tf.shape(x)[0], num_samples
        features = [tf.tile(f, [k, 1, 1, 1]) for f in self.bottom_up(x, training=False)]
        terms, px = self.top_down(k * batch, features, seed=seed, training=False)
        log_w = self._log_px(px, tf.tile(x, [k, 1, 1, 1]))[0] + tf.add_n([t.log_ratio() for t in terms])
        return tf.reshape(log_w, (k, batch))

    def latent_summary(self, x):
        """``([KL_i per example], posterior means)`` at one sample of the hierarchy: ``KL_i`` given the sampled
        layers above, the means ``mu_q_i`` of every layer flattened and joined, ``(batch, latent_dim)``."""
        terms, _ = self._posterior_pass(x, training=False)
        means = [tf.reshape(t.posterior_loc, (tf.shape(x)[0], -1)) for t in terms]
        return [t.kl() for t in terms], tf.concat(means, axis=1)

    def with_scored_sigma(self, sigma, x_example):
        """A HierarchicalVAE of this configuration with this model's weights and likelihood, scored at ``sigma``."""
        twin = type(self)(self.config, self.likelihood, seed=self.seed)
        twin.build(x_example.shape)
        twin.set_precision(self.precision)
        twin.set_weights(self.get_weights())
        twin.scored_sigma = float(sigma)
        return twin

    # -- training: per-layer KL, skipped outliers, precision -----------------

    @property
    def metrics(self):
        return super().metrics[:4] + [*self.layer_kl_trackers, *self.skip_trackers] + super().metrics[4:]

    def _update_trackers(self, loss, extras):
        _, sample_weight, terms = extras
        for tracker, kl in zip(self.layer_kl_trackers, terms.layer_kls):
            tracker.update_state(kl, sample_weight=sample_weight)
        return super()._update_trackers(loss, extras)

    def apply_gradients(self, grads):
        """The optimizer's update, skipped for outliers when ``skip_gradient_norm`` or ``skip_gradient_factor`` is
        set (:func:`vae_tf.models.hierarchical.updates.apply_unless_outlier`)."""
        if self.skip_trackers:
            apply_unless_outlier(self, grads)
        else:
            super().apply_gradients(grads)

    def _parameter_layers(self):
        """The layers whose outputs are distribution parameters: they compute in float32 whatever the policy."""
        return [self.output_conv] + [layer for latent in self.latent_layers for layer in latent.parameter_layers()]

    def choose_precision(self, precision):
        """``"auto"``: ``"mixed_bfloat16"`` where bfloat16 convolutions pay off (:func:`vae_tf.networks.bfloat16_pays_off`)."""
        if precision not in PRECISIONS:
            raise InvalidInputError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}.")
        if precision != "auto":
            return precision
        return "mixed_bfloat16" if bfloat16_pays_off() else "float32"

    def set_precision(self, policy):
        """Gives the networks ``policy``, except the layers that output distribution parameters (the latent heads'
        last convolutions, the output convolution), which stay float32."""
        set_layers_precision(self.networks(), self._parameter_layers(), policy)

    def get_compile_config(self):
        # The precision the networks compiled with comes back with the file: "auto" would pick again on load,
        # and None would leave the rebuilt layers at float32.
        config = super().get_compile_config()
        return None if config is None else {**config, "precision": self.precision}

    # -- inference -------------------------------------------------------------

    def reconstruct(self, x):
        """Mean of ``p(x | z)`` with every ``z_i`` the mean of ``q(z_i | z_<i, x)`` given the means above."""
        x = tf.cast(x, tf.float32)
        return self.top_down(tf.shape(x)[0], self.bottom_up(x), mode="mean")[1].mean()

    def sample(self, n, seed=None, mean=True):
        """``n`` images: ``z_i ~ p(z_i | z_<i)`` top-down, then the mean of ``p(x|z)`` (or a draw if ``mean=False``)."""
        n = check_positive_int(n, "n")
        seed = self._next_seed() if seed is None else tf.constant([int(seed), 0], tf.int32)
        _, px = self.top_down(n, seed=seed)
        if mean:
            return px.mean()
        return px.sample(seed=tf.random.experimental.stateless_fold_in(seed, self.num_latent_layers))

    # -- serialization ---------------------------------------------------------

    def get_config(self):
        return {**super().get_config(), "config": self.config.to_dict()}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["likelihood"] = keras.saving.deserialize_keras_object(config["likelihood"])
        return cls(**config)
