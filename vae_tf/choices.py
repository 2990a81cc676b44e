"""The values the package's options accept, as plain data: the one list of each.

Standard library only, so that the command line can build its parser, print ``--help`` and
reject a mistyped option without loading TensorFlow. The modules that act on these values
import them from here (the data sources, the objectives, the schedules, the configuration
registry, which checks at import that its configurations are exactly :data:`CONFIG_NAMES`).
"""

#: The environment variable naming a directory of local dataset files, ``<name>.npz`` (``vae_tf.data``).
DATA_DIR_ENV = "VAE_TF_DATA_DIR"
#: Named datasets (``vae_tf.data.load_dataset``).
DATASETS = ("digits", "mnist", "fashion_mnist", "binarized_mnist", "cifar10")
#: Values of ``VAE(objective=...)`` and ``vae-tf train --objective``.
OBJECTIVES = ("elbo", "iwae")
#: Learning-rate decays (``vae_tf.training.schedules``).
LR_SCHEDULES = ("constant", "cosine", "exponential")
#: Hidden-layer activations ``vae-tf train --activation`` offers (Keras activation names).
ACTIVATIONS = ("relu", "tanh", "elu", "gelu", "selu", "silu", "softplus", "sigmoid")
#: Encoder/decoder networks (``vae_tf.networks.choose_network``; ``"auto"`` picks by the image shape).
NETWORKS = ("auto", "mlp", "conv", "resnet")
#: How training pixels are binarized (``vae_tf.data.make_dataset``).
BINARIZATIONS = (None, "dynamic", "static")
#: The named VAE configurations, in the order ``vae-tf compare`` runs them (``vae_tf.models.vae.registry``).
CONFIG_NAMES = (
    "keras_mse", "scaled_mse_sigma1", "dnormal_learned_sigma", "dnormal_per_pixel_sigma", "logistic_mixture",
    "categorical", "gauss_learned_sigma", "gauss_per_pixel_sigma", "cont_bernoulli_nll", "gauss_per_pixel_sigma_raw",
    "bernoulli_bce_grey", "bin_bernoulli_nll", "bin_bernoulli_bce",
)
