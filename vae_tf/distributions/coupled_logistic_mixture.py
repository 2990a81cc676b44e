"""One colour pixel's R, G, B as a mixture of discretized logistics with PixelCNN++'s channel coupling.

Salimans et al. (2017), PixelCNN++, eq. 3 (their ``discretized_mix_logistic_loss``): one set of
mixture weights per pixel, shared by the three channels, and within component ``i`` the mean of G
shifted by the value of R, the mean of B by R and G. Exact and parallel in training: every channel
conditions on the *given* values of the channels before it (teacher forcing), so ``log_prob`` of a
batch of images is one vectorised computation.
"""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from vae_tf.data.levels import check_num_levels
from vae_tf.distributions.discretized import (LocationScale, OnLevelGrid, float_dtype, level_grid_assertions, positive_scale_properties)
from vae_tf.distributions.logistic_mixture import MixtureWeights, discretized_logistic_log_mass, discretized_logistic_mean

tfd = tfp.distributions

#: R, G, B: the channels of one pixel, in the order each conditions on the ones before it.
NUM_CHANNELS = 3


class ChannelCoupledLogisticMixture(MixtureWeights, OnLevelGrid, LocationScale, tfd.AutoCompositeTensorDistribution):
    r"""``p(r, g, b) = sum_i pi_i P_i(r) P_i(g | r) P_i(b | r, g)`` over the levels ``k / (L - 1)`` (PixelCNN++).

    Mathematical details: with ``pi = softmax(logits)`` over the ``K`` components,
    ``(alpha_i, beta_i, gamma_i) = coefficients[..., :, i]`` and ``P(k | mu, s)`` the mass
    of ``Logistic(mu, s)`` on bin ``k`` (edge bins taking the tails; see
    :func:`~vae_tf.distributions.discretized_logistic_log_mass`)::

        P_i(r)       = P(r | loc_Ri, s_Ri)
        P_i(g | r)   = P(g | mu_Gi, s_Gi),   mu_Gi = loc_Gi + alpha_i r
        P_i(b | r, g) = P(b | mu_Bi, s_Bi),  mu_Bi = loc_Bi + beta_i r + gamma_i g

    .. math::

        p(r, g, b) = \sum_{i=1}^{K} \pi_i\, P(r \mid \mu_{Ri}, s_{Ri})\,
        P(g \mid \mu_{Gi} + \alpha_i r, s_{Gi})\, P(b \mid \mu_{Bi} + \beta_i r + \gamma_i g, s_{Bi})

    where ``r, g`` are the levels' values ``k / (L - 1)``, and
    ``log p = logsumexp_i [log_softmax(logits)_i + log P_i(r) + log P_i(g | r) + log P_i(b | r, g)]``.
    It sums to 1 over the ``L^3`` triples since each factor sums to 1 over its channel.
    PixelCNN++ bounds the coefficients by ``tanh``; this distribution takes them as given
    (``layers.IndependentDiscretizedLogisticMixture`` applies the ``tanh``).

    The conditionals a coder needs (:meth:`channel_bin_log_probs`):
    ``p(g | r) = sum_i w_i(r) P_i(g | r)`` with ``w_i(r) ∝ pi_i P_i(r)``, and
    ``p(b | r, g) = sum_i w_i(r, g) P_i(b | r, g)`` with ``w_i(r, g) ∝ pi_i P_i(r) P_i(g | r)``;
    their product with ``p(r)`` is the joint.

    ``mean()``: ``E[r]`` exactly; ``E[g]`` and ``E[b]`` plug each component's mean of the
    channels before into its coupled location, ``E_i[g] ~ m(loc_Gi + alpha_i E_i[r], s_Gi)``
    and ``E_i[b] ~ m(loc_Bi + beta_i E_i[r] + gamma_i E_i[g], s_Bi)`` (``m`` the discretized
    logistic's mean), summed with the weights ``pi``. This is exact for the logistic before
    discretization (its mean is linear in the location); the rounding and the edge bins make
    it an approximation, exact when the coefficients are 0. The exact ``E[b]`` would sum over
    all ``L^2`` values of ``(r, g)``.

    ``sample()`` picks one component per pixel, then draws R, G given the drawn level of R, and
    B given both, each rounded to its level and clipped to ``[0, 1]``: a draw of exactly ``p``.

    Args:
        logits: ``(*batch_shape, K)``.
        loc, scale, coefficients: ``(*batch_shape, 3, K)``; channel rows R, G, B of ``loc`` and
            ``scale > 0``; the coefficient rows are ``alpha`` (R in G), ``beta`` (R in B),
            ``gamma`` (G in B). On the ``k / (L - 1)`` scale.
        num_levels: ``L``, a Python int >= 2.
    """

    def __init__(self, logits, loc, scale, coefficients, num_levels, validate_args=False, allow_nan_stats=True,
                 name="ChannelCoupledLogisticMixture"):
        parameters = dict(locals())
        self._num_levels = check_num_levels(num_levels)
        with tf.name_scope(name) as name:
            dtype = float_dtype(logits, loc, scale, coefficients)
            self._logits = tf.convert_to_tensor(logits, dtype, name="logits")
            self._loc = tf.convert_to_tensor(loc, dtype, name="loc")
            self._scale = tf.convert_to_tensor(scale, dtype, name="scale")
            self._coefficients = tf.convert_to_tensor(coefficients, dtype, name="coefficients")
            if self._logits.shape.rank == 0:
                raise ValueError("ChannelCoupledLogisticMixture: logits need a last (component) axis, got a scalar.")
            for what, t in (("loc", self._loc), ("scale", self._scale), ("coefficients", self._coefficients)):
                if t.shape.rank is not None and (t.shape.rank < 2 or t.shape[-2] not in (None, NUM_CHANNELS)):
                    raise ValueError(f"ChannelCoupledLogisticMixture: {what} must be (*batch, 3, K), got {t.shape}.")
            super().__init__(dtype=dtype, reparameterization_type=tfd.NOT_REPARAMETERIZED, validate_args=validate_args,
                             allow_nan_stats=allow_nan_stats, parameters=parameters, name=name)

    @classmethod
    def _parameter_properties(cls, dtype, num_classes=None):
        return dict(
            logits=tfp.util.ParameterProperties(event_ndims=1),
            loc=tfp.util.ParameterProperties(event_ndims=2),
            scale=positive_scale_properties(event_ndims=2),
            coefficients=tfp.util.ParameterProperties(event_ndims=2),
        )

    @property
    def coefficients(self):
        return self._coefficients

    def _event_shape(self):
        return tf.TensorShape([NUM_CHANNELS])

    def _event_shape_tensor(self):
        return tf.constant([NUM_CHANNELS], dtype=tf.int32)

    def _coupled_loc(self, values):
        """``(..., 3, K)`` locations ``[loc_R, loc_G + alpha r, loc_B + beta r + gamma g]`` for ``values`` ``(..., 3)``.

        Channel ``c``'s location reads only the values of the channels before it.
        """
        r, g = values[..., 0:1], values[..., 1:2]
        alpha, beta, gamma = tf.unstack(self._coefficients, NUM_CHANNELS, axis=-2)
        loc_r, loc_g, loc_b = tf.unstack(self._loc, NUM_CHANNELS, axis=-2)
        loc_r = loc_r + tf.zeros_like(r)  # broadcast R's row like the other two
        return tf.stack([loc_r, loc_g + alpha * r, loc_b + beta * r + gamma * g], axis=-2)

    def _component_log_masses(self, k):
        """``log P_i(x_c | x_{<c})``: ``(..., 3, K)`` for levels ``k`` ``(..., 3)``."""
        loc = self._coupled_loc(k / (self._num_levels - 1))
        return discretized_logistic_log_mass(k[..., None], loc, self._scale, self._num_levels)

    def _log_prob(self, x):
        per_component = tf.reduce_sum(self._component_log_masses(self.levels(x)), axis=-2)
        return tf.reduce_logsumexp(self._log_weights() + per_component, axis=-1)

    def channel_conditional_mixture(self, x, channel=None):
        """``(log w, loc, scale)``, each ``(..., 3, K)`` (``(..., 1, K)`` with ``channel``): ``p(x_c | x_{<c})`` as a mixture.

        Channel ``c`` given the channels before it is a mixture of ``K`` discretized logistics with
        log-weights ``log w_ci`` (see :meth:`channel_bin_log_probs`), locations
        ``_coupled_loc(x)[..., c, i]`` and scales ``scale[..., c, i]``; it reads only the channels of
        ``x`` before ``c``. A coder builds its level tables from these (``vae_tf.compression.tables``).
        """
        k = self.levels(x)
        loc = self._coupled_loc(k / (self._num_levels - 1))
        observed = discretized_logistic_log_mass(k[..., None], loc, self._scale, self._num_levels)
        # exclusive: channel c is weighted by the masses of the channels before it only
        before = tf.math.cumsum(observed, axis=-2, exclusive=True)
        log_w = tf.nn.log_softmax(self._log_weights()[..., None, :] + before, axis=-1)
        scale = self._scale + tf.zeros_like(loc)
        if channel is not None:
            log_w, loc, scale = (tf.gather(t, [channel], axis=-2) for t in (log_w, loc, scale))
        return log_w, loc, scale

    def channel_bin_log_probs(self, x, channel=None):
        """``log p(x_c = k | x_{<c})`` for every channel ``c`` and level ``k``: ``(..., 3, L)``, each row normalized.

        ``x`` is ``(..., 3)`` (on the grid ``k / (L - 1)``); entry ``[..., c, k]`` reads only
        the channels of ``x`` before ``c``, so a decoder that fills ``x`` channel by channel
        (R, then G, then B: three calls) gets the same numbers as a coder that knows all of ``x``::

            log p(x_c = k | x_{<c}) = logsumexp_i [log w_ci + log P_i(k | x_{<c})]
            log w_ci = log_softmax_i [log pi_i + sum_{c' < c} log P_i(x_c' | x_{<c'})]

        With ``channel`` (an int or scalar int tensor ``c``) only that channel's rows,
        ``(..., L)``: the same numbers as ``[..., c, :]`` of the full answer for a third of
        the work (what a coder calls once per channel). Builds ``(..., 3 or 1, L, K)`` tensors.
        """
        log_w, loc, scale = self.channel_conditional_mixture(x, channel)
        grid = tf.cast(tf.range(self._num_levels), self.dtype)[:, None]
        every_level = discretized_logistic_log_mass(grid, loc[..., None, :], scale[..., None, :], self._num_levels)
        out = tf.reduce_logsumexp(log_w[..., None, :] + every_level, axis=-1)
        return out if channel is None else out[..., 0, :]

    def bin_log_probs(self):
        """Not defined: the channels of a pixel are not independent; use :meth:`channel_bin_log_probs`."""
        raise NotImplementedError(
            "ChannelCoupledLogisticMixture couples the channels of a pixel: its levels have no per-channel "
            "probabilities without the channels before; use channel_bin_log_probs(x) (R, then G, then B).")

    def _mean(self):
        mean_r = discretized_logistic_mean(self._loc[..., 0, :], self._scale[..., 0, :], self._num_levels)
        alpha, beta, gamma = tf.unstack(self._coefficients, NUM_CHANNELS, axis=-2)
        mean_g = discretized_logistic_mean(self._loc[..., 1, :] + alpha * mean_r, self._scale[..., 1, :], self._num_levels)
        mean_b = discretized_logistic_mean(self._loc[..., 2, :] + beta * mean_r + gamma * mean_g,
                                           self._scale[..., 2, :], self._num_levels)
        component_means = tf.stack([mean_r, mean_g, mean_b], axis=-2)  # (..., 3, K)
        mean = tf.reduce_sum(tf.nn.softmax(self._logits, axis=-1)[..., None, :] * component_means, axis=-1)
        return tf.broadcast_to(mean, tf.concat([self.batch_shape_tensor(), [NUM_CHANNELS]], 0))

    def _sample_n(self, n, seed=None):
        component_seed, logistic_seed = tfp.random.split_seed(seed, n=2)
        batch = self.batch_shape_tensor()
        num_components = tf.shape(self._logits)[-1]
        logits = tf.broadcast_to(self._logits, tf.concat([batch, [num_components]], 0))
        index = tfd.Categorical(logits=logits).sample(n, seed=component_seed)  # (n, *batch)
        chosen = tf.one_hot(index, num_components, dtype=self.dtype)[..., None, :]  # (n, *batch, 1, K)
        full = tf.concat([batch, [NUM_CHANNELS, num_components]], 0)

        def pick(t):
            return tf.reduce_sum(chosen * tf.broadcast_to(t, full), axis=-1)  # (n, *batch, 3)

        loc, scale, (alpha, beta, gamma) = pick(self._loc), pick(self._scale), tf.unstack(
            pick(self._coefficients), NUM_CHANNELS, axis=-1)
        uniform = tf.random.stateless_uniform(tf.concat([[n], batch, [NUM_CHANNELS]], 0), seed=logistic_seed,
                                              minval=np.finfo(np.float32).tiny, maxval=1.0, dtype=self.dtype)
        noise = scale * (tf.math.log(uniform) - tf.math.log1p(-uniform))
        top = float(self._num_levels - 1)

        def level_value(continuous):
            return tf.clip_by_value(tf.round(continuous * top), 0.0, top) / top

        # each channel conditions on the drawn *levels* before it, as log_prob does
        r = level_value(loc[..., 0] + noise[..., 0])
        g = level_value(loc[..., 1] + alpha * r + noise[..., 1])
        b = level_value(loc[..., 2] + beta * r + gamma * g + noise[..., 2])
        return tf.stack([r, g, b], axis=-1)

    def _sample_control_dependencies(self, x):
        return level_grid_assertions(x, self._num_levels, self.dtype) if self.validate_args else []

    def _parameter_control_dependencies(self, is_init):
        if not self.validate_args or not is_init:
            return []
        return [tf.debugging.assert_positive(self._scale, message="ChannelCoupledLogisticMixture: scale must be > 0")]
