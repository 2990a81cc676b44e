"""``vae-tf compare``: the command-line face of :func:`vae_tf.compare.run_compare`."""

import argparse
import os

from vae_tf_cli.options import (add_data_options, add_model_option, add_network_option, batch_size, check_library_choices, directory,
                                epochs, image_count, latent_dim, layer_widths, name_list, positive_float, seed,
                                test_samples)

#: The standard budget; a preset replaces any value the user did not give.
STANDARD = {"configs": None, "epochs": None, "minutes": None, "latent_dim": 16, "k": 100, "batch_size": 100,
            "seed": 0, "train_size": None, "test_size": None, "iwae_examples": 1000, "jit": True}

#: The MNIST demo's configurations: the README's story in five rows. Keras' "mse" (the collapse: sigma =
#: sqrt(D/2) is a hidden beta of 392), ScaledMSE(sigma=1) (MSE as the Gaussian it is), a discretized Gaussian
#: with per-pixel sigma and the logistic mixture (decoders over the 256 levels, scored exactly), and BCE on grey
#: values (a loss with no probability of the image: its row reads n/a). Left out: the categorical, whose step
#: costs about five times the discretized Gaussian's on an AVX2-only CPU (twenty before FactoredLevelCategorical),
#: so that in 45 s it learns least (it ranked behind the discretized Gaussian when it was in); the dequantized
#: densities and the raw-grey Gaussian (bounds far behind); the binarized pair (a table of its own). The full
#: comparison (docs/results/mnist.md) has them all.
DEMO_CONFIGS = ("keras_mse", "scaled_mse_sigma1", "dnormal_per_pixel_sigma", "logistic_mixture", "bernoulli_bce_grey")

#: ``--preset demo``: on MNIST (when a file is at hand) a time budget, so that the demo lasts about as long on any
#: CPU: the five :data:`DEMO_CONFIGS` train 0.75 minutes each (3.75 min in all, compiling and validation
#: included; the budget stops a run inside an epoch if need be), on a 10,000-image training subset; scoring,
#: the one CPU-dependent part left, is kept small (IWAE with k=50 on 200 test images; the other metrics and the
#: codecs on 2,000). Measured times: docs/guide/choosing_a_loss.md. Without MNIST, the built-in digits train all
#: thirteen configurations for 30 epochs (an epoch is 16 steps).
PRESETS = {
    "demo": {"mnist": {"configs": list(DEMO_CONFIGS), "minutes": 0.75, "k": 50,
                       "train_size": 10000, "test_size": 2000, "iwae_examples": 200, "jit": True},
             "digits": {"epochs": 30, "k": 200, "iwae_examples": 297, "jit": False}},
}


def add_compare_command(subparsers):
    p = subparsers.add_parser(
        "compare", help="train one VAE per loss on the same data and write a report",
        description="Trains one VAE per configuration (same data, architecture, seed and budget) and writes "
                    "report.md, results.json, results.csv and PNGs into --out.")
    add_data_options(p, dataset_default=None)
    p.add_argument("--configs", type=name_list, default=None,
                   help="comma-separated configuration names (default: all thirteen; the report lists them, and an "
                        "unknown name is answered with the valid ones)")
    p.add_argument("--epochs", type=epochs, default=None,
                   help="epochs per run (default 10; with --minutes, the most a run may take, default 1000)")
    p.add_argument("--minutes", type=positive_float, default=None, metavar="M",
                   help="equal compute: every configuration trains for M minutes of wall-clock time (training stops "
                        "at the first step past them, inside an epoch if need be), and the report ranks at that budget")
    p.add_argument("--latent-dim", type=latent_dim, default=None, help="latent units (default 16)")
    p.add_argument("--hidden", type=layer_widths, default=None,
                   help="MLP hidden-layer widths of every configuration, e.g. 200,200 (default: each configuration's)")
    p.add_argument("--k", type=test_samples, default=None, help="importance samples for the test log-likelihood (default 100)")
    p.add_argument("--iwae-examples", type=image_count, default=None, help="test images scored by IWAE (default 1000)")
    p.add_argument("--train-size", type=image_count, default=None, help="keep only this many training images")
    p.add_argument("--test-size", type=image_count, default=None, help="keep only this many test images")
    p.add_argument("--batch-size", type=batch_size, default=None, help="default 100")
    p.add_argument("--seed", type=seed, default=None, help="default 0")
    p.add_argument("--out", type=directory, default="runs/compare", help="output directory (default runs/compare)")
    p.add_argument("--preset", choices=sorted(PRESETS), default=None,
                   help="demo: five configurations on MNIST when a file is at hand, 0.75 minutes of training each "
                        "(under 8 min in all on 2 CPU cores), else all thirteen on the built-in digits")
    p.add_argument("--jit", action=argparse.BooleanOptionalAction, default=None,
                   help="XLA-compile the training step (default on, MNIST demo included: compiling takes a few "
                        "seconds per model on a CPU and halves the categorical's step; the digits demo turns it off)")
    add_model_option(p)
    add_network_option(p)
    p.add_argument("--quiet", action="store_true", help="one line per epoch instead of progress bars")
    p.set_defaults(func=run_compare_command)
    return p


def _mnist_at_hand(args):
    from vae_tf.data import DATA_DIR_ENV

    if args.dataset == "digits":
        return False
    if args.data or args.dataset in ("mnist", "fashion_mnist"):
        return True
    data_dir = os.environ.get(DATA_DIR_ENV)
    return bool(data_dir and os.path.exists(os.path.join(data_dir, "mnist.npz")))


def resolve_settings(args):
    """Explicit options win over the preset, which wins over :data:`STANDARD`."""
    settings = dict(STANDARD)
    dataset = args.dataset
    if args.preset:
        if _mnist_at_hand(args):
            settings.update(PRESETS[args.preset]["mnist"])
            if dataset is None and not args.data:
                dataset = "mnist"
        else:
            settings.update(PRESETS[args.preset]["digits"])
    for key in STANDARD:
        value = getattr(args, key, None)
        if value is not None:
            settings[key] = value
    settings["dataset"] = dataset or "digits"
    return settings


def run_compare_command(args):
    from vae_tf.comparison.runner import run_compare
    from vae_tf.data import DATASETS
    from vae_tf.models import MODEL_FAMILIES
    from vae_tf.networks import NETWORKS

    check_library_choices(args, dataset=DATASETS, network=NETWORKS, model=MODEL_FAMILIES)

    s = resolve_settings(args)
    run_compare(dataset=s["dataset"], data=args.data, configs=s["configs"], epochs=s["epochs"], minutes=s["minutes"],
                latent_dim=s["latent_dim"], k=s["k"], batch_size=s["batch_size"], seed=s["seed"], out=args.out,
                verbose=2 if args.quiet else 1, train_size=s["train_size"], test_size=s["test_size"],
                iwae_examples=s["iwae_examples"], jit_compile="auto" if s["jit"] else False,
                image_size=args.image_size, skip_bad_files=args.skip_bad_files,
                network=args.network, hidden=args.hidden, model=args.model)
    return 0
