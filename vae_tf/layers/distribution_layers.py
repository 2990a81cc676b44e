"""Keras 3 layers that turn network outputs into TFP distributions.

Each likelihood layer owns the final projection from decoder features to its
parameters (a ``Dense`` layer plus a reshape to the event shape), so a decoder
only has to produce features. Pass ``project=False`` when the decoder already
outputs exactly ``params_size(event_shape)`` numbers per example.

The layers compute in float32 whatever the global mixed-precision policy:
densities and their logarithms are where float16 loses the most.
"""

import math

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import keras

from vae_tf.distributions import FastBernoulli
from vae_tf.support import Support

tfd = tfp.distributions

SCALE_MODES = ("learned", "per_pixel")


def _event_shape(event_shape):
    if isinstance(event_shape, int):
        event_shape = (event_shape,)
    event_shape = tuple(int(d) for d in event_shape)
    if not event_shape or any(d <= 0 for d in event_shape):
        raise ValueError(f"event_shape must be a non-empty tuple of positive ints, got {event_shape!r}")
    return event_shape


def bounded_scale(log_scale, min_scale):
    """A standard deviation that stays above ``min_scale``, smoothly.

    Formula: ``sigma = min_scale * exp(softplus(log_scale - log(min_scale)))``,
    i.e. ``log sigma = log m + softplus(log_scale - log m)``. It is
    ``exp(log_scale)`` when that is well above ``m``, never below ``m``, and its
    gradient never vanishes abruptly as a hard clip's would.
    """
    if not min_scale > 0:
        raise ValueError(f"bounded_scale: min_scale must be > 0, got {min_scale!r}.")
    log_m = math.log(min_scale)
    return tf.exp(log_m + tf.nn.softplus(log_scale - log_m))


def check_finite_features(x, layer_name):
    """Eager calls only: NaN/Inf input to a distribution layer raises ``ValueError`` naming where.

    Inside compiled training steps the check is skipped (the data were checked
    before training); called eagerly, e.g. ``model.decode(z)``, a NaN input
    would otherwise come back as a distribution full of NaN.
    """
    if tf.executing_eagerly() and hasattr(x, "numpy"):
        v = x.numpy()
        if not np.all(np.isfinite(v)):
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(v))[0])
            raise ValueError(
                f"{layer_name}: its input contains NaN or Inf ({v[bad]} at index {bad}): "
                f"the data or the network before this layer produced non-finite values."
            )


class _ProjectedLayer(keras.layers.Layer):
    """A layer that flattens its input features and may own a Dense ``projection`` to its parameters."""

    projection = None

    def build(self, input_shape):
        if self.projection is not None:
            self.projection.build((input_shape[0], int(np.prod(input_shape[1:]))))
        super().build(input_shape)

    def flat_features(self, inputs):
        """``inputs`` as float32 ``(batch, features)``; eager NaN/Inf input raises ``ValueError``."""
        x = tf.cast(inputs, self.compute_dtype)
        check_finite_features(x, self.name)
        if x.shape.rank is not None and x.shape.rank != 2:
            x = tf.reshape(x, (tf.shape(x)[0], -1))
        return x


class _DistributionLayer(_ProjectedLayer):
    """Shared plumbing: float32 compute, the projection, the reshape."""

    def __init__(self, event_shape, project=True, num_params=None, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.event_shape = _event_shape(event_shape)
        self.event_size = int(np.prod(self.event_shape))
        self.project = bool(project)
        self._num_params = num_params if num_params is not None else self.params_size(self.event_shape)
        self.projection = (
            keras.layers.Dense(self._num_params, dtype=self.dtype_policy, name="projection") if self.project else None
        )

    def num_params(self):
        """Parameters per example this layer turns into a distribution."""
        return self._num_params

    def values_per_row(self):
        """Floats of distribution parameters one decoder row holds (sizes the IWAE estimator's chunks)."""
        return self.num_params()

    def parameters_from(self, inputs):
        """Flat float32 parameters ``(batch, params_size)`` from features or ready parameters."""
        x = self.flat_features(inputs)
        if self.projection is not None:
            return self.projection(x)
        if x.shape[-1] is not None and x.shape[-1] != self.num_params():
            raise ValueError(
                f"{self.name}: with project=False the input must hold {self.num_params()} parameters per "
                f"example (params_size of event_shape {self.event_shape}), got {x.shape[-1]}."
            )
        return x

    def reshape_event(self, flat):
        return tf.reshape(flat, tf.concat([tf.shape(flat)[:1], self.event_shape], 0))

    def independent(self, base):
        return tfd.Independent(base, reinterpreted_batch_ndims=len(self.event_shape))

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self.event_shape

    def get_config(self):
        return {**super().get_config(), "event_shape": list(self.event_shape), "project": self.project}


class _GaussianParameterLayer(_DistributionLayer):
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
            :func:`bounded_scale`).
        project: own the Dense projection from features (default) or take
            ready parameters: ``D`` means, then (per-pixel sigma) ``D`` raw
            log-sigmas; or a convolutional output ``(batch, H, W, 2C)`` whose
            first ``C`` channels are means and last ``C`` raw log-sigmas.
    """

    def __init__(self, event_shape, scale=1.0, min_scale=1e-3, project=True, **kwargs):
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
        super().__init__(event_shape, project=project, num_params=self.params_size(event_shape, scale), **kwargs)
        self.scale = scale
        self.min_scale = float(min_scale)

    @staticmethod
    def params_size(event_shape, scale=1.0):
        """Numbers per example: ``D`` for fixed or learned sigma, ``2 D`` for per-pixel sigma."""
        d = int(np.prod(_event_shape(event_shape)))
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

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "min_scale": self.min_scale}


@keras.saving.register_keras_serializable(package="vae_tf")
class IndependentNormal(_GaussianParameterLayer):
    """``p(x | h) = prod_d N(x_d; mu_d(h), sigma_d^2)`` over ``event_shape``.

    ``-log p(x) = sum_d (x_d - mu_d)^2 / (2 sigma_d^2) + sum_d log sigma_d + (D/2) log 2 pi``.

    Args:
        event_shape: shape of one example, e.g. ``(28, 28, 1)``.
        scale: a float (fixed sigma), ``"learned"`` (one shared trainable
            log-sigma, the sigma-VAE / calibrated decoder) or ``"per_pixel"``
            (sigma predicted by the network for every value).
        min_scale: lower bound of a learned or predicted sigma (see
            :func:`bounded_scale`).
        project: own the Dense projection from features (default) or take
            ready parameters.
    """

    #: A density on the real line.
    support = Support.real_line()

    def call(self, inputs):
        return self.independent(tfd.Normal(*self.loc_and_scale(inputs)))


@keras.saving.register_keras_serializable(package="vae_tf")
class IndependentBernoulli(_DistributionLayer):
    """``p(x | h) = prod_d Bernoulli(x_d; sigmoid(l_d(h)))``, parameterised by logits.

    ``-log p(x) = sum_d softplus(l_d) - x_d l_d``: binary cross-entropy summed
    over pixels. Samples and the mean are float32.
    """

    #: Binary pixels (grey values in [0, 1] train through BCE, but only binary images have a probability).
    support = Support.binary()

    @staticmethod
    def params_size(event_shape):
        """``D`` logits per example."""
        return int(np.prod(_event_shape(event_shape)))

    def call(self, inputs):
        logits = self.reshape_event(self.parameters_from(inputs))
        return self.independent(FastBernoulli(logits=logits, dtype=tf.float32))


@keras.saving.register_keras_serializable(package="vae_tf")
class IndependentContinuousBernoulli(_DistributionLayer):
    """``p(x | h) = prod_d CB(x_d; sigmoid(l_d(h)))`` on ``[0, 1]`` (Loaiza-Ganem & Cunningham, 2019).

    ``log CB(x; p) = x log p + (1 - x) log(1 - p) + log C(p)`` with the
    normaliser ``C(p) = 2 artanh(1 - 2p) / (1 - 2p)`` (``C(1/2) = 2``): the
    Bernoulli density made a proper density for grey values.
    """

    #: A density on [0, 1].
    support = Support.unit_interval()

    @staticmethod
    def params_size(event_shape):
        """``D`` logits per example."""
        return int(np.prod(_event_shape(event_shape)))

    def call(self, inputs):
        logits = self.reshape_event(self.parameters_from(inputs))
        return self.independent(tfd.ContinuousBernoulli(logits=logits))


@keras.saving.register_keras_serializable(package="vae_tf")
class DiagonalGaussianPosterior(_ProjectedLayer):
    """The encoder's ``q(z | x) = N(z; mu(h), diag(sigma^2(h)))`` over ``latent_dim``.

    A Dense layer maps features ``h`` to ``(mu, log sigma^2)``; the scale is
    kept above ``min_scale`` with :func:`bounded_scale`. Returns
    ``Independent(Normal(mu, sigma), 1)``, which TFP's analytic KL handles.
    """

    def __init__(self, latent_dim, min_scale=1e-4, project=True, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if int(latent_dim) <= 0:
            raise ValueError(f"latent_dim must be a positive int, got {latent_dim!r}")
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
