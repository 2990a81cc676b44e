"""Export a :class:`vae_tf.VAE` as a SavedModel that TensorFlow Serving loads.

TensorFlow Serving runs no Python: it loads a SavedModel by its ``serve`` tag
and calls signatures by name with plain tensors. Every signature written here
takes and returns float32 tensors (``sample`` takes two int32 scalars) with a
dynamic batch dimension; the encoder, decoder and the TFP distribution ops are
ordinary TensorFlow ops in the graph, so loading needs neither ``vae_tf``,
``keras`` nor ``tensorflow_probability``.

    signatures     the signature names, inputs and outputs (SIGNATURES, describe_signatures)
    serving_elbo   the served ELBO: deterministic per example (serving_elbo, example_noise_seeds)
    serving_graph  the signature bodies and their in-graph input checks
    saved_model    export_saved_model: the SavedModel, written atomically

``reconstruction`` is the mean of ``p(x | z)`` at the posterior mean
``z = E[q(z|x)]`` (for a Bernoulli decoder: the probabilities), as
``VAE.reconstruct``; ``decode`` returns the mean of ``p(x | z)``; ``sample`` is
``VAE.sample(num, seed=seed)``: ``z ~ p(z)`` drawn with the stateless seed
``(seed, 0)``, then the mean of ``p(x | z)``.
"""

from vae_tf.export.saved_model import export_saved_model
from vae_tf.export.serving_elbo import example_noise_seeds, serving_elbo
from vae_tf.export.signatures import SIGNATURES, describe_signatures

__all__ = ["SIGNATURES", "describe_signatures", "example_noise_seeds", "export_saved_model", "serving_elbo"]
