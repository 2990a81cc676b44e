"""vae-tf: VAEs in Keras 3 whose decoders are TFP distributions.

Public API::

    vae_tf.VAE                       the model (call returns p(x|z))
    vae_tf.layers                    IndependentNormal, IndependentBernoulli,
                                     IndependentContinuousBernoulli, DiagonalGaussianPosterior;
                                     discretized (exact for L-level images, x = k / (L - 1)):
                                     IndependentDiscretizedNormal, DiscretizedLogisticMixture,
                                     IndependentCategorical
    vae_tf.distributions             DiscretizedNormal, DiscretizedLogisticMixture, LevelCategorical;
                                     the standard normal prior, its KL, sampling/log-density fast paths
    vae_tf.networks                  mlp_encoder, mlp_decoder, conv_encoder, conv_decoder
    vae_tf.diagonal_gaussian_kl      closed-form KL(N(mu, sigma^2) || N(0, I))
    vae_tf.callbacks                 KLWarmup, BetaSchedule, cyclical_annealing, ImageSummaries
    vae_tf.objectives                ELBO (free bits), IWAEBound, the IWAE estimator
    vae_tf.compare(...)              one VAE per loss on the same data, ranked by bits/dim; report.md, PNGs
    vae_tf.data                      MNIST / Fashion-MNIST / binarized MNIST / digits loaders, num_levels,
                                     binarization, dequantization, tf.data pipelines
    vae_tf.bits_per_dim              bits/dim of integer images: conversions, the dequantized bound
                                     (VAE.bits_per_dim(x, num_levels, k) applies them to a model)
    vae_tf.export_saved_model        SavedModel for TensorFlow Serving (vae_tf.export)
    vae_tf.compression               compress / decompress: lossless bits-back coding with a trained VAE
"""

from vae_tf.tensorflow_startup import import_tensorflow_quietly

# Before anything imports TensorFlow: its C++ start-up lines are held back (VAE_TF_VERBOSE=1 shows them).
import_tensorflow_quietly()

from vae_tf import layers, networks  # noqa: E402
from vae_tf import callbacks, distributions, objectives  # noqa: E402
from vae_tf.models import VAE  # noqa: E402
from vae_tf.models.vae import diagonal_gaussian_kl, standard_normal_prior  # noqa: E402
from vae_tf.export import export_saved_model  # noqa: E402
from vae_tf import data, evaluation  # noqa: E402
from vae_tf.evaluation import bits_per_dim  # noqa: E402
from vae_tf.compare import compare  # noqa: E402
from vae_tf import compression  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "VAE",
    "bits_per_dim",
    "evaluation",
    "callbacks",
    "compare",
    "compression",
    "data",
    "diagonal_gaussian_kl",
    "distributions",
    "export_saved_model",
    "layers",
    "networks",
    "objectives",
    "standard_normal_prior",
]
