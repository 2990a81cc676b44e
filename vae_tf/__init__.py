"""vae-tf: VAEs in Keras 3 whose decoders are TFP distributions.

Public API::

    vae_tf.VAE                       the model (call returns p(x|z))
    vae_tf.layers                    IndependentNormal, IndependentBernoulli,
                                     IndependentContinuousBernoulli, DiagonalGaussianPosterior
    vae_tf.networks                  mlp_encoder, mlp_decoder, conv_encoder, conv_decoder
    vae_tf.diagonal_gaussian_kl      closed-form KL(N(mu, sigma^2) || N(0, I))
    vae_tf.compare(...)              one VAE per loss on the same data; report.md, results.json, PNGs
    vae_tf.data                      MNIST / Fashion-MNIST / digits loaders, binarization, tf.data pipelines
    vae_tf.export_saved_model        SavedModel for TensorFlow Serving (vae_tf.export)
"""

from vae_tf.tensorflow_startup import import_tensorflow_quietly

# Before anything imports TensorFlow: its C++ start-up lines are held back (VAE_TF_VERBOSE=1 shows them).
import_tensorflow_quietly()

from vae_tf import layers, networks  # noqa: E402
from vae_tf.models import VAE  # noqa: E402
from vae_tf.models.vae import diagonal_gaussian_kl, standard_normal_prior  # noqa: E402
from vae_tf.export import export_saved_model  # noqa: E402
from vae_tf import data  # noqa: E402
from vae_tf.compare import compare  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "VAE",
    "compare",
    "data",
    "diagonal_gaussian_kl",
    "export_saved_model",
    "layers",
    "networks",
    "standard_normal_prior",
]
