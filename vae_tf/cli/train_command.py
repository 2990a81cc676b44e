"""``vae-tf train``: one configuration, resumable after a kill, saved atomically."""

import json
import shutil

from vae_tf.choices import ACTIVATIONS, CONFIG_NAMES, DATASETS, LR_SCHEDULES, NETWORKS, OBJECTIVES
from vae_tf.cli.argument_types import (dataset_file_or_folder, directory, layer_widths, new_keras_file,
                                       non_negative_float, non_negative_int, positive_float, positive_int, seed)
from vae_tf.cli.image_folder_options import FOLDER_HELP, add_image_folder_options

#: Written next to the model (``m.keras.json``): the configuration and data it was trained on.
SIDECAR_SUFFIX = ".json"


def add_data_options(p):
    p.add_argument("--dataset", choices=DATASETS, default="digits", help="default: the built-in digits")
    p.add_argument("--data", type=dataset_file_or_folder, default=None, metavar="NPZ_OR_DIR",
                   help=f"local .npz with x_train, y_train, x_test, y_test, {FOLDER_HELP}")
    add_image_folder_options(p)
    p.add_argument("--batch-size", type=positive_int, default=100)
    p.add_argument("--seed", type=seed, default=0)


def add_network_option(p):
    p.add_argument("--network", choices=NETWORKS, default="auto",
                   help="encoder and decoder: mlp, conv, resnet, or auto (default): resnet for colour images "
                        "or images of 32x32 and up, mlp otherwise")


def add_train_command(subparsers):
    p = subparsers.add_parser("train", help="train one configuration and save it as a .keras file",
                              description="Trains one configuration; resumes from --backup-dir after a crash.")
    p.add_argument("--config", default="gauss_learned_sigma", help=f"one of {', '.join(CONFIG_NAMES)}")
    add_data_options(p)
    p.add_argument("--epochs", type=positive_int, default=20)
    p.add_argument("--latent-dim", type=positive_int, default=16)
    p.add_argument("--hidden", type=layer_widths, default=None,
                   help="MLP widths of encoder and decoder, e.g. 200,200 (default: the configuration's)")
    add_network_option(p)
    p.add_argument("--activation", choices=ACTIVATIONS, default=None, help="hidden-layer activation (default relu)")
    p.add_argument("--objective", choices=OBJECTIVES, default="elbo",
                   help="elbo (default) or iwae: the importance-weighted bound with --num-samples samples")
    p.add_argument("--num-samples", type=positive_int, default=1, help="k of the IWAE bound (default 1 = the ELBO)")
    p.add_argument("--free-bits", type=non_negative_float, default=0.0,
                   help="floor in nats on each latent unit's batch-averaged KL (default 0: off)")
    p.add_argument("--kl-warmup", type=non_negative_int, default=0,
                   help="raise beta linearly from 0 over this many epochs (default 0: off)")
    p.add_argument("--learning-rate", type=positive_float, default=1e-3, help="Adam's learning rate (default 1e-3)")
    p.add_argument("--lr-schedule", choices=LR_SCHEDULES, default="constant",
                   help="decay of the learning rate over the epochs: constant (default), cosine "
                        "(to 1%%) or exponential (to 10%%)")
    p.add_argument("--train-size", type=positive_int, default=None, help="keep only this many training images")
    p.add_argument("--out", type=new_keras_file, default="m.keras", help="model file (default m.keras), written atomically")
    p.add_argument("--backup-dir", type=directory, default=None,
                   help="where keras.callbacks.BackupAndRestore keeps the state after each epoch "
                        "(default: <out>.backup); rerunning the same command resumes there")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=run_train_command)


def run_train_command(args):
    import keras

    from vae_tf.data import load_dataset
    from vae_tf.models.vae.config import build_vae
    from vae_tf.models.vae.registry import resolve_configs
    from vae_tf.training import fit_vae, save_model_atomically
    from vae_tf.training.checkpointing import backed_up_epoch

    from vae_tf.errors import UserInputError
    from vae_tf.networks import describe_network
    from vae_tf.objectives import check_log_density_loss, reconstruction_loss_for
    from vae_tf.models.vae.config import build_loss

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
    print(f"vae-tf train {config.name}: {images.describe()}")
    if done:
        print(f"Resuming from {backup_dir}: {done} of {args.epochs} epochs already done.")
    keras.utils.set_random_seed(args.seed)
    try:  # objective, samples and free bits that do not go together, or a loss IWAE cannot weight with
        model = build_vae(config, images.event_shape, seed=args.seed, num_levels=images.num_levels or 2)
        if config.objective == "iwae":
            check_log_density_loss(reconstruction_loss_for(build_loss(config, images.event_shape)), model.likelihood)
    except ValueError as err:
        raise UserInputError(f"{config.name}: {err}") from None
    callbacks = [keras.callbacks.BackupAndRestore(backup_dir, delete_checkpoint=False)]
    result = fit_vae(model, config, images, args.epochs, batch_size=args.batch_size, seed=args.seed,
                     verbose=0 if args.quiet else 1, callbacks=callbacks, learning_rate=args.learning_rate,
                     lr_schedule=args.lr_schedule, kl_warmup=args.kl_warmup)
    save_model_atomically(model, args.out)
    with open(args.out + SIDECAR_SUFFIX, "w") as f:
        json.dump({"config": config.to_dict(), "dataset": images.name, "source": images.source,
                   "epochs": args.epochs, "seed": args.seed, "batch_size": args.batch_size,
                   "learning_rate": args.learning_rate, "lr_schedule": args.lr_schedule,
                   "kl_warmup": args.kl_warmup, "image_size": args.image_size}, f, indent=2)
    # Only now is the backup redundant: a kill before the save above resumes from the last epoch.
    shutil.rmtree(backup_dir, ignore_errors=True)
    print(f"Trained {result.epochs_run} epochs in {result.seconds:.1f} s "
          f"({result.examples_per_second:.0f} examples/s); saved {args.out}")
    print(f"Network: {describe_network(model)}")
    return 0
