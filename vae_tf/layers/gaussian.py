"""Layers with Gaussians: the decoder N(x; mu, sigma^2 I) (what "MSE with a sigma" is), its discretized twin over
the grey levels, and the encoder's diagonal Gaussian posterior q(z | x).
"""

import math

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from vae_tf import distributions
from vae_tf.errors import check_positive_int
from vae_tf.layers.base import DistributionLayer, ProjectedLayer, bounded_scale, check_finite_features, event_shape_of
from vae_tf.support import LEVELS, REAL_LINE

tfd = tfp.distributions

SCALE_MODES = ("learned", "per_pixel")


class GaussianParameterLayer(DistributionLayer):
    """A Gaussian's ``(loc, scale)`` over ``event_shape``, the scale fixed, learned or per pixel.

    The machinery shared by :class:`IndependentNormal` and
    ``IndependentDiscretizedNormal``: subclasses turn :meth:`loc_and_scale`
    into their distribution.

    Args:
        event_shape: shape of one example, e.g. ``(28, 28, 1)``.
        scale: a float (fixed sigma), ``"learned"`` (one shared trainable
            log-sigma, the sigma-VAE / calibrated decoder) or ``"per_pixel"``
            (sigma predicted by the network for every value).
        min_scale: lower bound of a learned or predicted sigma (see
            :func:`~vae_tf.layers.bounded_scale`).
        project: own the Dense projection from features (default) or take
            ready parameters: ``D`` means, then (per-pixel sigma) ``D`` raw
            log-sigmas; or a convolutional output ``(batch, H, W, 2C)`` whose
            first ``C`` channels are means and last ``C`` raw log-sigmas.
        num_levels: ``L`` of the integer images ``k / (L - 1)`` the decoder models (see the subclass).
    """

    def __init__(self, event_shape, scale=1.0, min_scale=1e-3, project=True, num_levels=None, **kwargs):
        name = type(self).__name__
        if isinstance(scale, str):
            if scale not in SCALE_MODES:
                raise ValueError(f"{name}: scale must be a float > 0 or one of {SCALE_MODES}, got {scale!r}")
        else:
            scale = float(scale)
            if not scale > 0 or not math.isfinite(scale):
                raise ValueError(f"{name}: a fixed scale (sigma) must be > 0, got {scale!r}")
        if not min_scale > 0:
            raise ValueError(f"{name}: min_scale must be > 0, got {min_scale!r}")
        super().__init__(event_shape, project=project, num_params=self.params_size(event_shape, scale),
                         num_levels=num_levels, **kwargs)
        self.scale = scale
        self.min_scale = float(min_scale)

    @staticmethod
    def params_size(event_shape, scale=1.0):
        """Numbers per example: ``D`` for fixed or learned sigma, ``2 D`` for per-pixel sigma."""
        d = int(np.prod(event_shape_of(event_shape)))
        return 2 * d if scale == "per_pixel" else d

    def build(self, input_shape):
        if self.scale == "learned":
            self.log_scale = self.add_weight(shape=(), initializer="zeros", name="log_scale")
        super().build(input_shape)

    def current_scale(self):
        """The shared sigma (fixed or learned); None for per-pixel sigma."""
        if self.scale == "learned":
            return bounded_scale(self.log_scale, self.min_scale)
        if self.scale == "per_pixel":
            return None
        return tf.constant(self.scale, self.compute_dtype)

    def loc_and_scale(self, inputs):
        """``(loc, scale)``, each float32 ``(batch, *event_shape)`` (a shared sigma is broadcast)."""
        if self.scale == "per_pixel" and not self.project and inputs.shape.rank > 2:
            # A convolutional decoder's output (batch, H, W, 2C): mean and log-sigma channels.
            check_finite_features(inputs, self.name)
            loc, log_scale = tf.split(tf.cast(inputs, self.compute_dtype), 2, axis=-1)
            return self.reshape_event(loc), self.reshape_event(bounded_scale(log_scale, self.min_scale))
        params = self.parameters_from(inputs)
        if self.scale == "per_pixel":
            loc, log_scale = tf.split(params, 2, axis=-1)
            return self.reshape_event(loc), self.reshape_event(bounded_scale(log_scale, self.min_scale))
        loc = self.reshape_event(params)
        # Full-shape parameters: the training step's flat view reshapes every parameter (model.flat_event_view).
        return loc, tf.broadcast_to(self.current_scale(), tf.shape(loc))

    def base_distribution(self, loc, scale):
        """The element-wise distribution of the subclass (``Normal``, ``DiscretizedNormal``) at ``(loc, scale)``."""
        raise NotImplementedError

    def call(self, inputs):
        return self.independent(self.base_distribution(*self.loc_and_scale(inputs)))

    def at_fixed_scale(self, mean, sigma):
        """The layer's kind of Gaussian centred at ``mean`` (batch first, any event layout) with the fixed ``sigma``:
        ``prod_d N(x_d; mean_d, sigma^2)``, or its discretized twin over the layer's levels.

        How a model whose loss trained only the decoder's mean is scored (``scored_sigma``, set at ``compile``;
        :func:`vae_tf.reconstruction.scored_likelihood`).
        """
        mean = tf.convert_to_tensor(mean, self.compute_dtype)
        scale = tf.broadcast_to(tf.cast(sigma, mean.dtype), tf.shape(mean))
        return tfd.Independent(self.base_distribution(mean, scale), reinterpreted_batch_ndims=mean.shape.rank - 1)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "min_scale": self.min_scale}


@keras.saving.register_keras_serializable(package="vae_tf")
class IndependentNormal(GaussianParameterLayer):
    r"""``p(x | h) = prod_d N(x_d; mu_d(h), sigma_d^2)`` over ``event_shape``, with::

        -log p(x) = sum_d (x_d - mu_d)^2 / (2 sigma_d^2) + sum_d log sigma_d + (D/2) log 2 pi

    .. math::

        -\log p(x \mid h) = \sum_{d=1}^{D} \frac{(x_d - \mu_d(h))^2}{2\sigma_d^2} + \sum_{d=1}^{D} \log\sigma_d
        + \frac{D}{2}\log 2\pi

    The arguments (``event_shape``, ``scale`` a float, ``"learned"`` or ``"per_pixel"``, ``min_scale``,
    ``project``) are :class:`~vae_tf.layers.gaussian.GaussianParameterLayer`'s; ``num_levels``, when given, is the
    ``L`` of the integer images the density is scored against by the dequantized bound (its ``support``).
    """

    #: A density on the real line.
    support_kind = REAL_LINE

    def base_distribution(self, loc, scale):
        return tfd.Normal(loc, scale)


@keras.saving.register_keras_serializable(package="vae_tf")
class IndependentDiscretizedNormal(GaussianParameterLayer):
    r"""``P(k | h) = prod_d DiscretizedNormal(k_d; mu_d(h), sigma_d, L)``: the Gaussian integrated over each bin.

    With ``h_L = 1 / (L - 1)``, pixel value ``x_d = k_d h_L`` and ``Phi`` the
    standard normal CDF::

        P(x_d) = Phi((x_d + h_L/2 - mu_d) / sigma_d) - Phi((x_d - h_L/2 - mu_d) / sigma_d)

    .. math::

        P(x_d \mid h) = \Phi\Big(\frac{x_d + h_L/2 - \mu_d(h)}{\sigma_d}\Big)
        - \Phi\Big(\frac{x_d - h_L/2 - \mu_d(h)}{\sigma_d}\Big), \qquad h_L = \frac{1}{L - 1}

    the two edge bins taking the tails to -inf and +inf. This is what "MSE
    with a sigma" (:class:`IndependentNormal`) becomes as a probability of
    ``L``-level pixels: ``-log P(x) >= 0`` always, and as ``sigma >> h_L``,
    ``log P(x) -> log N(x; mu, sigma^2 I) + D log h_L``.

    The scale options, ``min_scale`` and the parameter layout are those of
    :class:`IndependentNormal` (the same machinery). ``mean()`` is the mean of
    the discretized variable (see ``DiscretizedNormal``), which
    ``losses.ScaledMSE`` and Keras' ``"mse"`` train through.

    Args:
        event_shape: shape of one example, e.g. ``(28, 28, 1)``.
        scale: a float (fixed sigma), ``"learned"`` or ``"per_pixel"``.
        min_scale: lower bound of a learned or predicted sigma.
        num_levels: ``L``, the number of grey levels (256 for 8-bit images).
        project: own the Dense projection from features, or take ready parameters.
    """

    #: The ``num_levels`` levels ``k / (L - 1)``: exact probabilities of integer images.
    support_kind = LEVELS

    def __init__(self, event_shape, scale=1.0, min_scale=1e-3, num_levels=256, project=True, **kwargs):
        super().__init__(event_shape, scale=scale, min_scale=min_scale, project=project,
                         num_levels=distributions.check_num_levels(num_levels), **kwargs)

    def base_distribution(self, loc, scale):
        return distributions.DiscretizedNormal(loc, scale, self.num_levels)


@keras.saving.register_keras_serializable(package="vae_tf")
class DiagonalGaussianPosterior(ProjectedLayer):
    r"""The encoder's ``q(z | x) = N(z; mu(h), diag(sigma^2(h)))`` over ``latent_dim``.

    A Dense layer maps features ``h`` to ``(mu, log sigma^2)``; the scale is
    kept above ``min_scale`` with :func:`bounded_scale`. Returns
    ``Independent(Normal(mu, sigma), 1)``, which TFP's analytic KL handles: to the prior ``N(0, I)``
    (:func:`vae_tf.distributions.diagonal_gaussian_kl`) it is::

        KL = 0.5 * sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)

    .. math::

        \mathrm{KL}\big(q(z \mid x) \,\|\, \mathcal{N}(0, I)\big)
        = \frac{1}{2} \sum_{j=1}^{J} \big(\mu_j^2 + \sigma_j^2 - 1 - \log\sigma_j^2\big)
    """

    def __init__(self, latent_dim, min_scale=1e-4, project=True, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        check_positive_int(latent_dim, "latent_dim")
        if not min_scale > 0:
            raise ValueError(f"DiagonalGaussianPosterior: min_scale must be > 0, got {min_scale!r}")
        self.latent_dim = int(latent_dim)
        self.min_scale = float(min_scale)
        self.project = bool(project)
        self.projection = keras.layers.Dense(2 * self.latent_dim, dtype=self.dtype_policy, name="projection") if project else None

    @staticmethod
    def params_size(latent_dim):
        """``2 * latent_dim``: a mean and a log-variance per latent unit."""
        return 2 * int(latent_dim)

    def parameters(self, inputs):
        """``(z_mean, z_log_var)``, each ``(batch, latent_dim)``, float32."""
        h = self.flat_features(inputs)
        params = self.projection(h) if self.projection is not None else h
        loc, raw_log_var = tf.split(params, 2, axis=-1)
        scale = bounded_scale(0.5 * raw_log_var, self.min_scale)
        return loc, 2.0 * tf.math.log(scale)

    @staticmethod
    def distribution(loc, log_var):
        """``Independent(Normal(loc, exp(log_var / 2)), 1)``: the posterior from its parameters."""
        return tfd.Independent(tfd.Normal(loc, tf.exp(0.5 * log_var)), reinterpreted_batch_ndims=1)

    def call(self, inputs):
        return self.distribution(*self.parameters(inputs))

    def get_config(self):
        return {**super().get_config(), "latent_dim": self.latent_dim, "min_scale": self.min_scale, "project": self.project}
