"""``vae-tf evaluate``: the test numbers of a saved model (bits/dim, ELBO, IWAE, MSE, KL)."""

import json
import os

from vae_tf.cli.argument_types import keras_file, positive_int
from vae_tf.cli.train_command import SIDECAR_SUFFIX, add_data_options


def add_evaluate_command(subparsers):
    p = subparsers.add_parser("evaluate", help="ELBO, importance-sampled log-likelihood and MSE of a saved model")
    p.add_argument("model", type=keras_file, help="a .keras file written by `vae-tf train`")
    add_data_options(p)
    p.add_argument("--k", type=positive_int, default=1000, help="importance samples (default 1000)")
    p.add_argument("--test-size", type=positive_int, default=None, help="keep only this many test images")
    p.add_argument("--binarize", choices=("auto", "none", "static"), default="auto",
                   help="auto: binarize (one fixed draw) when the model was trained on binarized pixels")
    p.set_defaults(func=run_evaluate_command)


def _trained_binarized(model_path):
    sidecar = model_path + SIDECAR_SUFFIX
    if os.path.exists(sidecar):
        with open(sidecar) as f:
            return bool(json.load(f)["config"].get("binarized"))
    return False


def run_evaluate_command(args):
    from vae_tf.cli.model_files import load_vae
    from vae_tf.data import binarize_static, load_dataset
    from vae_tf.evaluation import test_metrics
    from vae_tf.training.trainer import TEST_SEED_OFFSET

    model = load_vae(args.model)
    images = load_dataset(args.dataset, path=args.data, test_size=args.test_size, image_size=args.image_size,
                          skip_bad_files=args.skip_bad_files)
    binarize = args.binarize == "static" or (args.binarize == "auto" and _trained_binarized(args.model))
    test_seed = args.seed + TEST_SEED_OFFSET
    x = binarize_static(images.x_test, test_seed) if binarize else images.x_test
    # Scored on the levels, or (continuous densities) one fixed dequantized draw; the IWAE draws use --seed.
    m = test_metrics(model, x, 2 if binarize else images.num_levels, k=args.k, seed=test_seed,
                     iwae_seed=args.seed, batch_size=args.batch_size, verbose=1)
    if m["bits_per_dim"] is None:
        bits_line = f"n/a: No bits/dim: {m['no_bits_reason']}."
    else:
        bits_line = f"{m['bits_per_dim']:.4f} ({m['bits_per_dim_method']}, {m['num_levels']} levels, k={args.k})"
    scored = "binarized " if binarize else ("dequantized " if m["dequantized"] else "")
    print(f"{args.model} on {len(x)} {scored}test images of {images.name}:")
    print(f"  test bits/dim          {bits_line}")
    print(f"  test ELBO              {m['test_elbo']:.3f} nats")
    print(f"  test log p(x) (k={args.k}) {m['test_iwae']:.3f} nats")
    print(f"  reconstruction MSE     {m['recon_mse']:.5f} per sub-pixel, at z = E[q(z|x)]")
    print(f"  KL                     {m['kl']:.3f} nats, active units {m['active_units']}/{model.latent_dim}")
    return 0
