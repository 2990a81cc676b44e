"""``vae-tf compare``: the command-line face of :func:`vae_tf.compare.run_compare`."""

import argparse
import os

from vae_tf_cli.options import (add_data_options, add_model_option, add_network_option, batch_size, check_library_choices, directory,
                                epochs, image_count, latent_dim, layer_widths, name_list, positive_float, seed,
                                test_samples)

#: The standard budget; a preset replaces any value the user did not give.
STANDARD = {"epochs": None, "minutes": None, "latent_dim": 16, "k": 100, "batch_size": 100, "seed": 0,
            "train_size": None, "test_size": None, "iwae_examples": 1000, "jit": True}

#: ``--preset demo``: all thirteen configurations, MNIST (a 20,000-image training subset, 8 epochs of 200 steps)
#: when a file is at hand, else the built-in digits. Why this budget: it is about the smallest at which the best
#: model beats the classic codecs on the same test images, the README's story (measured: categorical 1.356
#: bits/dim, LZMA 1.389, bz2 1.411, logistic mixture 1.457; 5 epochs on 10,000 images left the categorical at
#: 1.562, behind both codecs). XLA on: it halves the categorical's step, whose (batch, 784, 256) logits are most
#: of its work, and costs about 6 s of compiling per model. Time: 7 min 52 s wall on the 2-core CPU with
#: nothing else running (637 CPU-seconds, peak RSS 3.8 GiB; the categorical then scored 1.362 +- 0.016 against
#: LZMA's 1.389, a lead within two standard errors, which the report calls a tie; 11 min 55 s on a shared machine).
PRESETS = {
    "demo": {"mnist": {"epochs": 8, "k": 50, "train_size": 20000, "test_size": 2000, "iwae_examples": 500, "jit": True},
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
                   help="equal compute: every configuration trains for M minutes of wall-clock time (no epoch is "
                        "started once they are spent; a finished epoch is kept), and the report ranks at that budget")
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
                   help="demo: a short budget (under 8 min on 2 CPU cores), MNIST subset when available, else digits")
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
    run_compare(dataset=s["dataset"], data=args.data, configs=args.configs, epochs=s["epochs"], minutes=s["minutes"],
                latent_dim=s["latent_dim"], k=s["k"], batch_size=s["batch_size"], seed=s["seed"], out=args.out,
                verbose=2 if args.quiet else 1, train_size=s["train_size"], test_size=s["test_size"],
                iwae_examples=s["iwae_examples"], jit_compile="auto" if s["jit"] else False,
                image_size=args.image_size, skip_bad_files=args.skip_bad_files,
                network=args.network, hidden=args.hidden, model=args.model)
    return 0
