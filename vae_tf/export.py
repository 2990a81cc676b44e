"""Export a :class:`vae_tf.VAE` or :class:`vae_tf.HierarchicalVAE` as a SavedModel that TensorFlow Serving loads.

TensorFlow Serving runs no Python: it loads a SavedModel by its ``serve`` tag and calls signatures by name with
plain tensors. Every signature written here takes and returns float32 tensors (``sample`` takes two int32
scalars) with a dynamic batch dimension; the encoder, decoder and the TFP distribution ops are ordinary
TensorFlow ops in the graph, so loading needs neither ``vae_tf``, ``keras`` nor ``tensorflow_probability``.

``reconstruction`` is the mean of ``p(x | z)`` at the posterior mean ``z = E[q(z|x)]`` (for a Bernoulli decoder:
the probabilities), as ``VAE.reconstruct``; ``decode`` returns the mean of ``p(x | z)``; ``sample`` is
``VAE.sample(num, seed=seed)``: ``z ~ p(z)`` drawn with the stateless seed ``(seed, 0)``, then the mean of
``p(x | z)``. The served ELBO is deterministic per example (its noise is a function of the image).

For a :class:`~vae_tf.HierarchicalVAE` the latent ``z`` is every latent layer flattened and joined, top first
(``latent_dim`` numbers): ``encode`` gives the posterior means (each layer's given the means above) and their
log-variances, ``decode`` runs the top-down pass with those latents, ``sample`` is ``HierarchicalVAE.sample``,
and the ELBO is the hierarchy's (``sum_i KL_i``, one sample of every layer, each example's noise its own).
"""

import os

import keras
import tensorflow as tf

from vae_tf.atomic_files import atomic_directory
from vae_tf.distributions.discretized import on_grid_check
from vae_tf.models import HierarchicalVAE, VAE
from vae_tf.objectives import elbo_terms
from vae_tf.support import support_of


#: Signature name -> (input names, output names), as written into the SavedModel.
SIGNATURES = {
    "serving_default": (("x",), ("reconstruction", "elbo")),
    "encode": (("x",), ("z_mean", "z_log_var")),
    "decode": (("z",), ("mean",)),
    "sample": (("num", "seed"), ("images",)),
    "elbo": (("x",), ("elbo", "reconstruction_nll", "kl")),
}


def input_signatures(model):
    """Signature name -> its input ``tf.TensorSpec`` list: float32 images ``(batch, *event_shape)``, latents
    ``(batch, latent_dim)``, and two int32 scalars for ``sample``; every batch dimension is dynamic."""
    images = tf.TensorSpec((None,) + tuple(model.event_shape), tf.float32, name="x")
    return {
        "serving_default": [images],
        "encode": [images],
        "decode": [tf.TensorSpec((None, model.latent_dim), tf.float32, name="z")],
        "sample": [tf.TensorSpec((), tf.int32, name="num"), tf.TensorSpec((), tf.int32, name="seed")],
        "elbo": [images],
    }


def describe_signatures(model):
    """One line per signature, e.g. ``encode: x float32 (batch, 28, 28, 1) -> z_mean float32 (batch, 50), ...``."""
    def dims(shape):
        return "(" + ", ".join("batch" if d is None else str(d) for d in shape) + ")" if len(shape) else "scalar"

    event, latent = tuple(model.event_shape), model.latent_dim
    output_shapes = {
        "reconstruction": (None,) + event, "elbo": (None,), "reconstruction_nll": (None,), "kl": (None,),
        "z_mean": (None, latent), "z_log_var": (None, latent), "mean": (None,) + event, "images": ("num",) + event,
    }
    lines = []
    for name, specs in input_signatures(model).items():
        inputs = ", ".join(f"{spec.name} {spec.dtype.name} {dims(spec.shape.as_list())}" for spec in specs)
        outputs = ", ".join(f"{out} float32 {dims(output_shapes[out])}" for out in SIGNATURES[name][1])
        lines.append(f"{name}: {inputs} -> {outputs}")
    return lines


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


def _trailing_shape_check(tensor, name, trailing):
    """An assert op: ``tensor`` is ``(batch, *trailing)``.

    Needed at run time because a signature called by name checks its inputs'
    dtype but not their shape: without it a wrong shape fails deep inside a
    Reshape with a message about value counts.
    """
    trailing = [int(d) for d in trailing]
    actual = tf.shape(tensor)
    rank_ok = tf.equal(tf.size(actual), 1 + len(trailing))
    ok = tf.cond(rank_ok, lambda: tf.reduce_all(tf.equal(actual[1:], trailing)), lambda: tf.constant(False))
    expected = "(batch, " + ", ".join(map(str, trailing)) + ")"
    return tf.debugging.Assert(ok, [f"{name} must have shape {expected} and dtype float32; got shape", actual])


class ServingGraph:
    """The signature bodies; each checks its input in the graph so a bad request fails with a message."""

    def __init__(self, model):
        self.model = model
        support = support_of(model.likelihood)
        self.levels = support.num_levels if support.on_grid else None
        self.unit_interval = support.within_unit_interval

    def _checked_images(self, x):
        checks = [_trailing_shape_check(x, "x", self.model.event_shape),
                  tf.debugging.assert_all_finite(x, "x contains NaN or Inf")]
        if self.unit_interval:
            name = type(self.model.likelihood).__name__
            message = f"the {name} decoder needs pixels in [0, 1] (0..255 pixels? divide by 255)"
            checks += [tf.debugging.assert_greater_equal(x, 0.0, message=message),
                       tf.debugging.assert_less_equal(x, 1.0, message=message)]
        if self.levels is not None:
            # A discretized decoder's log_prob would silently round an off-grid pixel to its nearest level.
            top = self.levels - 1
            message = (f"the {type(self.model.likelihood).__name__} decoder (num_levels={self.levels}) needs "
                       f"pixels on the grid k / {top}, k = 0..{top}, not dequantized or rescaled values")
            checks.append(on_grid_check(x, self.levels, message))
        with tf.control_dependencies(checks):
            return tf.identity(x)

    def _mean(self, px):
        return tf.cast(px.mean(), tf.float32)

    def serving_default(self, x):
        x = self._checked_images(x)
        q, z_mean, z_log_var = self.model.posterior(x, training=False)
        reconstruction = self._mean(self.model.decode(z_mean, training=False))
        return {"reconstruction": reconstruction, "elbo": elbo_outputs(self.model, x, q, z_mean, z_log_var)["elbo"]}

    def encode(self, x):
        _, z_mean, z_log_var = self.model.posterior(self._checked_images(x), training=False)
        return {"z_mean": z_mean, "z_log_var": z_log_var}

    def decode(self, z):
        with tf.control_dependencies([_trailing_shape_check(z, "z", (self.model.latent_dim,))]):
            z = tf.debugging.assert_all_finite(z, "z contains NaN or Inf")
        return {"mean": self._mean(self.model.decode(z, training=False))}

    def sample(self, num, seed):
        check = tf.debugging.assert_positive(num, message="sample: num must be a positive integer")
        with tf.control_dependencies([check]):
            z = self.model.prior().sample(num, seed=tf.stack([seed, tf.constant(0, tf.int32)]))
        return {"images": self._mean(self.model.decode(z, training=False))}

    def elbo(self, x):
        x = self._checked_images(x)
        return elbo_outputs(self.model, x, *self.model.posterior(x, training=False))


class HierarchicalServingGraph(ServingGraph):
    """The signature bodies of a :class:`~vae_tf.HierarchicalVAE`: ``z`` is its latent layers flattened, top first."""

    def _joined(self, tensors):
        return tf.concat([tf.reshape(t, (tf.shape(t)[0], -1)) for t in tensors], axis=1)

    def _layers(self, z):
        """``z`` ``(batch, latent_dim)`` split into the latent images ``(batch, h_i, w_i, c_i)``, top first."""
        sizes = [h * w * c for h, w, c in self.model.latent_shapes]
        return [tf.reshape(part, (-1,) + tuple(shape))
                for part, shape in zip(tf.split(z, sizes, axis=1), self.model.latent_shapes)]

    def _posterior_means(self, x):
        model = self.model
        return model.top_down(tf.shape(x)[0], model.bottom_up(x, training=False), mode="mean", training=False)

    def _elbo(self, x):
        """``log p(x|z) - sum_i KL_i`` at ``z_i = mu_q_i + sigma_q_i eps_i``, ``eps_i`` of example ``n`` drawn from
        ``fold_in(example_noise_seeds(x)[n], i)``: a function of the example alone."""
        seeds = example_noise_seeds(x)

        def noise(i, loc):
            shape = loc.shape[1:]
            return tf.map_fn(lambda seed: tf.random.stateless_normal(
                shape, seed=tf.random.experimental.stateless_fold_in(seed, i)), seeds,
                fn_output_signature=tf.TensorSpec(shape, tf.float32))

        terms, px = self.model.top_down(tf.shape(x)[0], self.model.bottom_up(x, training=False), noise=noise,
                                        training=False)
        nll = -tf.cast(self.model.per_example_log_likelihood(px, x), tf.float32)
        kl = tf.add_n([t.kl() for t in terms])
        return {"elbo": -nll - kl, "reconstruction_nll": nll, "kl": kl}

    def serving_default(self, x):
        x = self._checked_images(x)
        return {"reconstruction": self._mean(self._posterior_means(x)[1]), "elbo": self._elbo(x)["elbo"]}

    def encode(self, x):
        terms, _ = self._posterior_means(self._checked_images(x))
        return {"z_mean": self._joined([t.posterior_loc for t in terms]),
                "z_log_var": self._joined([2.0 * tf.math.log(t.posterior_scale) for t in terms])}

    def decode(self, z):
        with tf.control_dependencies([_trailing_shape_check(z, "z", (self.model.latent_dim,))]):
            z = tf.debugging.assert_all_finite(z, "z contains NaN or Inf")
        _, px = self.model.top_down(tf.shape(z)[0], latents=self._layers(z), training=False)
        return {"mean": self._mean(px)}

    def sample(self, num, seed):
        check = tf.debugging.assert_positive(num, message="sample: num must be a positive integer")
        with tf.control_dependencies([check]):
            _, px = self.model.top_down(num, seed=tf.stack([seed, tf.constant(0, tf.int32)]), training=False)
        return {"images": self._mean(px)}

    def elbo(self, x):
        return self._elbo(self._checked_images(x))


def export_saved_model(model, path):
    """Write ``model`` as a SavedModel at ``path`` (a new directory) and return ``path``.

    For TensorFlow Serving, ``path`` is a version directory under the model's
    base path, e.g. ``models/vae/1``. The SavedModel is written to a temporary
    sibling directory and renamed into place, so a server watching the base
    path never sees a half-written version.

    Raises:
        TypeError: ``model`` is neither a :class:`vae_tf.VAE` nor a :class:`vae_tf.HierarchicalVAE`.
        FileExistsError: ``path`` exists and is not an empty directory
            (export a new version rather than overwrite one a server may be reading).
    """
    if not isinstance(model, (VAE, HierarchicalVAE)):
        raise TypeError(f"export_saved_model needs a vae_tf.VAE or vae_tf.HierarchicalVAE, got {type(model).__name__}.")
    path = os.fspath(path)
    if os.path.exists(path) and (not os.path.isdir(path) or os.listdir(path)):
        raise FileExistsError(
            f"{path} already exists and is not an empty directory; export to a new version directory "
            "(e.g. models/vae/2) instead of overwriting one a server may be reading."
        )
    if not model.built:  # e.g. restored from a .keras file that was saved before any call
        model.build((None,) + tuple(model.event_shape))

    graph = HierarchicalServingGraph(model) if isinstance(model, HierarchicalVAE) else ServingGraph(model)
    archive = keras.export.ExportArchive()
    archive.track(model)
    # serving_default first: it is the signature TF Serving's REST API calls when none is named.
    for name, signature in input_signatures(model).items():
        archive.add_endpoint(name, getattr(graph, name), input_signature=signature)

    with atomic_directory(path) as staging:
        archive.write_out(staging, verbose=False)
    return path
