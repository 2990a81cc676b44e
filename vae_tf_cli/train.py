"""``vae-tf train`` (one configuration, resumable after a kill, saved atomically), ``vae-tf evaluate`` (a saved
model's held-out numbers) and ``vae-tf export`` (a SavedModel for TensorFlow Serving).
"""

import json
import os
import shutil
import zipfile

from vae_tf_cli.options import (ACTIVATIONS, add_data_options, add_model_option, add_network_option, batch_size,
                                check_library_choices, directory, epochs, free_bits, image_count, keras_file, latent_dim,
                                layer_widths, learning_rate, new_directory, new_keras_file, seed, test_samples,
                                training_samples, warmup_epochs)


def load_vae(path):
    """The model saved at ``path``; :class:`~vae_tf.errors.UserInputError` naming the file when it cannot be loaded.

    (Keras 3.15 says "File not found" for a truncated file that exists.)
    """
    import keras

    from vae_tf.errors import UserInputError

    if not os.path.isfile(path):
        raise UserInputError(f"Model file {path!r} does not exist.")
    try:
        return keras.saving.load_model(path)
    except (ValueError, TypeError, KeyError, OSError, zipfile.BadZipFile) as error:
        message = " ".join(str(error).split())[:300]
        raise UserInputError(f"cannot load {path!r} as a vae_tf model: {message}") from error


#: Written next to the model (``m.keras.json``): the configuration and data it was trained on.
SIDECAR_SUFFIX = ".json"


def add_train_command(subparsers):
    p = subparsers.add_parser("train", help="train one configuration and save it as a .keras file",
                              description="Trains one configuration; resumes from --backup-dir after a crash.")
    p.add_argument("--config", default="gauss_learned_sigma", metavar="NAME",
                   help="a named configuration, as `vae-tf compare` lists them in its report (default "
                        "gauss_learned_sigma; an unknown name is answered with the valid ones)")
    add_data_options(p)
    p.add_argument("--batch-size", type=batch_size, default=100)
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--epochs", type=epochs, default=20)
    p.add_argument("--latent-dim", type=latent_dim, default=16)
    p.add_argument("--hidden", type=layer_widths, default=None,
                   help="MLP widths of encoder and decoder, e.g. 200,200 (default: the configuration's)")
    add_model_option(p)
    add_network_option(p)
    p.add_argument("--activation", choices=ACTIVATIONS, default=None, help="hidden-layer activation (default relu)")
    p.add_argument("--objective", default="elbo", metavar="NAME",
                   help="elbo (default) or iwae: the importance-weighted bound with --num-samples samples")
    p.add_argument("--num-samples", type=training_samples, default=1, help="k of the IWAE bound (default 1 = the ELBO)")
    p.add_argument("--free-bits", type=free_bits, default=0.0,
                   help="floor in nats on each latent unit's batch-averaged KL (default 0: off)")
    p.add_argument("--kl-warmup", type=warmup_epochs, default=0,
                   help="raise beta linearly from 0 over this many epochs (default 0: off)")
    p.add_argument("--learning-rate", type=learning_rate, default=1e-3, help="Adam's learning rate (default 1e-3)")
    p.add_argument("--lr-schedule", default="constant", metavar="NAME",
                   help="decay of the learning rate over the epochs: constant (default), cosine "
                        "(to 1%%) or exponential (to 10%%)")
    p.add_argument("--train-size", type=image_count, default=None, help="keep only this many training images")
    p.add_argument("--out", type=new_keras_file, default="m.keras", help="model file (default m.keras), written atomically")
    p.add_argument("--backup-dir", type=directory, default=None,
                   help="where keras.callbacks.BackupAndRestore keeps the state after each epoch "
                        "(default: <out>.backup); rerunning the same command resumes there")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=run_train_command)


def run_train_command(args):
    import keras

    from vae_tf.data import DATASETS, load_dataset
    from vae_tf.long_jobs import count_of
    from vae_tf.models import MODEL_FAMILIES, build_model
    from vae_tf.models.vae import DEFAULT_CONFIGS, resolve_configs
    from vae_tf.networks import NETWORKS, describe_network
    from vae_tf.objectives import OBJECTIVES
    from vae_tf.training import LR_SCHEDULES, backed_up_epoch, fit_vae, prepare_splits, save_model_atomically

    check_library_choices(args, config=tuple(DEFAULT_CONFIGS), dataset=DATASETS, network=NETWORKS,
                          objective=OBJECTIVES, lr_schedule=LR_SCHEDULES, model=MODEL_FAMILIES)
    (config,) = resolve_configs([args.config], latent_dim=args.latent_dim)
    changes = dict(objective=args.objective, num_samples=args.num_samples, free_bits=args.free_bits,
                   network=args.network)
    if args.hidden is not None:
        changes["hidden"] = args.hidden
    if args.activation is not None:
        changes["activation"] = args.activation
    config = config.replace(**changes)
    images = load_dataset(args.dataset, path=args.data, train_size=args.train_size, image_size=args.image_size,
                          skip_bad_files=args.skip_bad_files)
    backup_dir = args.backup_dir or args.out + ".backup"
    done = backed_up_epoch(backup_dir)
    print(f"vae-tf train {config.name}{'' if args.model == 'vae' else f' on the {args.model} model'}: "
          f"{images.describe()}")
    if done:
        print(f"Resuming from {backup_dir}: {done} of {args.epochs} epochs already done.")
    keras.utils.set_random_seed(args.seed)
    model = build_model(config, images.event_shape, family=args.model, seed=args.seed,
                        num_levels=2 if config.binarized else images.num_levels)
    callbacks = [keras.callbacks.BackupAndRestore(backup_dir, delete_checkpoint=False)]
    result = fit_vae(model, config, prepare_splits(config, model.likelihood, images, args.seed), args.epochs,
                     batch_size=args.batch_size, seed=args.seed, verbose=0 if args.quiet else 1, callbacks=callbacks,
                     learning_rate=args.learning_rate, lr_schedule=args.lr_schedule, kl_warmup=args.kl_warmup)
    save_model_atomically(model, args.out)
    with open(args.out + SIDECAR_SUFFIX, "w") as f:
        json.dump({"config": config.to_dict(), "model": args.model, "dataset": images.name, "source": images.source,
                   "epochs": args.epochs, "seed": args.seed, "batch_size": args.batch_size,
                   "learning_rate": args.learning_rate, "lr_schedule": args.lr_schedule,
                   "kl_warmup": args.kl_warmup, "image_size": args.image_size}, f, indent=2)
    # Only now is the backup redundant: a kill before the save above resumes from the last epoch.
    shutil.rmtree(backup_dir, ignore_errors=True)
    print(f"Trained {count_of(result.epochs_run, 'epoch')} in {result.seconds:.1f} s "
          f"({result.examples_per_second:.0f} examples/s); saved {args.out}")
    print(f"Network: {describe_network(model)}")
    return 0


def add_evaluate_command(subparsers):
    p = subparsers.add_parser("evaluate", help="ELBO, importance-sampled log-likelihood and MSE of a saved model")
    p.add_argument("model", type=keras_file, help="a .keras file written by `vae-tf train`")
    add_data_options(p)
    p.add_argument("--batch-size", type=batch_size, default=100)
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--k", type=test_samples, default=1000, help="importance samples (default 1000)")
    p.add_argument("--test-size", type=image_count, default=None, help="keep only this many test images")
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
    from vae_tf.data import DATASETS, binarize_static, load_dataset
    from vae_tf.evaluation import held_out_metrics
    from vae_tf.training import TEST_SEED_OFFSET

    check_library_choices(args, dataset=DATASETS)
    images = load_dataset(args.dataset, path=args.data, test_size=args.test_size, image_size=args.image_size,
                          skip_bad_files=args.skip_bad_files)
    model = load_vae(args.model)
    binarize = args.binarize == "static" or (args.binarize == "auto" and _trained_binarized(args.model))
    test_seed = args.seed + TEST_SEED_OFFSET
    x = binarize_static(images.x_test, test_seed) if binarize else images.x_test
    # Scored on the levels, or (continuous densities) one fixed dequantized draw; the IWAE draws use --seed.
    m = held_out_metrics(model, x, k=args.k, seed=test_seed, iwae_seed=args.seed, batch_size=args.batch_size,
                         verbose=1)
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
    if len(m["layer_kl"]) > 1:
        print(f"  KL per latent layer    {', '.join(f'{v:.3f}' for v in m['layer_kl'])} nats (top first)")
    return 0


def add_export_command(subparsers):
    export = subparsers.add_parser(
        "export", help="write a saved .keras VAE (either family) as a SavedModel for TensorFlow Serving",
        description="Write a .keras VAE as a SavedModel with signatures serving_default, encode, decode, "
                    "sample and elbo. For TensorFlow Serving, --out is a version directory: MODEL_BASE_PATH/1.")
    export.add_argument("--model", required=True, type=keras_file,
                        help="a .keras file saved from a vae_tf.VAE or vae_tf.HierarchicalVAE")
    export.add_argument("--out", required=True, type=new_directory, help="new directory to write, e.g. models/vae/1")
    export.set_defaults(func=run_export_command)


def run_export_command(args):
    from vae_tf.errors import UserInputError
    from vae_tf.export import describe_signatures, export_saved_model

    model = load_vae(args.model)
    try:
        path = export_saved_model(model, args.out)
    except (TypeError, FileExistsError) as error:
        raise UserInputError(str(error)) from error
    print(f"SavedModel written to {path} with signatures:")
    for line in describe_signatures(model):
        print("  " + line)
    return 0
