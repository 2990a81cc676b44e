"""``vae-tf export``: a saved ``.keras`` VAE as a SavedModel for TensorFlow Serving."""

from vae_tf.cli.argument_types import keras_file, new_directory
from vae_tf.errors import UserInputError


def add_export_command(subparsers):
    export = subparsers.add_parser(
        "export", help="write a saved .keras VAE as a SavedModel for TensorFlow Serving",
        description="Write a .keras VAE as a SavedModel with signatures serving_default, encode, decode, "
                    "sample and elbo. For TensorFlow Serving, --out is a version directory: MODEL_BASE_PATH/1.")
    export.add_argument("--model", required=True, type=keras_file, help="a .keras file saved from a vae_tf.VAE")
    export.add_argument("--out", required=True, type=new_directory, help="new directory to write, e.g. models/vae/1")
    export.set_defaults(func=run_export_command)


def run_export_command(args):
    from vae_tf.cli.model_files import load_vae
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
