"""vae-tf: VAEs in Keras 3 whose decoders are TFP distributions.

Public API::

    vae_tf.VAE                       the model (call returns p(x|z))
    vae_tf.layers                    IndependentNormal, IndependentBernoulli,
                                     IndependentContinuousBernoulli, DiagonalGaussianPosterior;
                                     discretized (exact for L-level images, x = k / (L - 1)):
                                     IndependentDiscretizedNormal, IndependentDiscretizedLogisticMixture,
                                     IndependentCategorical
    vae_tf.distributions             DiscretizedNormal, DiscretizedLogisticMixture, LevelCategorical,
                                     ChannelCoupledLogisticMixture (RGB pixels, PixelCNN++ coupling);
                                     the standard normal prior, its KL, sampling/log-density fast paths
    vae_tf.networks                  mlp_encoder, mlp_decoder, conv_encoder, conv_decoder, resnet_encoder,
                                     resnet_decoder; choose_network, describe_network
    vae_tf.diagonal_gaussian_kl      closed-form KL(N(mu, sigma^2) || N(0, I))
    vae_tf.callbacks                 KLWarmup, BetaSchedule, cyclical_annealing, ImageSummaries
    vae_tf.objectives                ELBO (free bits), IWAEBound, elbo_terms (the one ELBO)
    vae_tf.evaluation                elbo, iwae_log_likelihood, bits/dim, test_metrics: how a model is scored
    vae_tf.compare(...)              one VAE per loss on the same data, ranked by bits/dim; report.md, PNGs
    vae_tf.data                      MNIST / Fashion-MNIST / binarized MNIST / digits loaders, a folder of
                                     images (PNG, JPEG, WebP, BMP), num_levels,
                                     binarization, dequantization, tf.data pipelines
    vae_tf.bits_per_dim              bits/dim of integer images: conversions, the dequantized bound
                                     (vae_tf.evaluation.bits_per_dim; VAE.bits_per_dim applies it to a model)
    vae_tf.export_saved_model        SavedModel for TensorFlow Serving (vae_tf.export)
    vae_tf.compression               compress / decompress: lossless bits-back coding with a trained VAE
    vae_tf.support                   what a decoder is over (binary, L levels, [0, 1], the real line)

``import vae_tf`` is lazy: a name is imported when first used, so the command line's ``--help``
answers without loading TensorFlow. TensorFlow's C++ start-up lines are held back whenever
TensorFlow is loaded after ``import vae_tf``, by vae_tf or by the program (``VAE_TF_VERBOSE=1``
shows them). Keras-serializable classes are registered as soon as
Keras is imported, so ``keras.saving.load_model`` finds them after ``import vae_tf``.
"""

import importlib
import sys

# Standard library only: importing vae_tf stays quick.
from vae_tf import tensorflow_startup as _tensorflow_startup
from vae_tf.import_hooks import after_package_imports as _after_package_imports
from vae_tf.import_hooks import around_first_import as _around_first_import
from vae_tf.import_hooks import track_package_imports as _track_package_imports

__version__ = "0.1.0"

#: Public name -> (module, attribute or None for the module itself).
_PUBLIC = {
    "VAE": ("vae_tf.models", "VAE"),
    "bits_per_dim": ("vae_tf.evaluation.bits_per_dim", None),
    "callbacks": ("vae_tf.callbacks", None),
    "compare": ("vae_tf.compare", None),  # the package, callable as compare(...)
    "compression": ("vae_tf.compression", None),
    "data": ("vae_tf.data", None),
    "diagonal_gaussian_kl": ("vae_tf.distributions", "diagonal_gaussian_kl"),
    "distributions": ("vae_tf.distributions", None),
    "evaluation": ("vae_tf.evaluation", None),
    "export_saved_model": ("vae_tf.export", "export_saved_model"),
    "layers": ("vae_tf.layers", None),
    "networks": ("vae_tf.networks", None),
    "objectives": ("vae_tf.objectives", None),
    "standard_normal_prior": ("vae_tf.distributions", "standard_normal_prior"),
    "support": ("vae_tf.support", None),
}

__all__ = sorted(_PUBLIC)


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'vae_tf' has no attribute {name!r}")
    _tensorflow_startup.import_tensorflow_quietly()
    module_name, attribute = _PUBLIC[name]
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__():
    return sorted(set(globals()) | set(_PUBLIC))


def _register_all():
    # `import vae_tf.layers` as a program's first line loads Keras from inside vae_tf.layers, before it
    # defines anything: registering (which imports every model) waits until that import has ended.
    _after_package_imports("vae_tf", _register_now)


def _register_now():
    from vae_tf.serializables import register_all

    register_all()


def _register_after_keras(execute, module):
    execute()
    # Keras is often imported from inside TensorFlow's own import: register once both are complete.
    _tensorflow_startup.after_tensorflow_loads(_register_all)


_track_package_imports("vae_tf")
_tensorflow_startup.hold_back_later_tensorflow_start_up()
if "keras" in sys.modules:
    _register_all()
else:
    _around_first_import("keras", _register_after_keras)
