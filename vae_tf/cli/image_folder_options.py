"""The options a folder of images brings to a command that reads data: ``--image-size`` and ``--skip-bad-files``.

``vae-tf compare``, ``train``, ``evaluate`` (with ``--data DIR``) and ``compress`` (with a folder as
IMAGES) share them; :func:`vae_tf.data.image_folder.read_image_folder` does the reading.
"""

from vae_tf.cli.argument_types import image_size

#: What a folder of images is, for the --data help texts.
FOLDER_HELP = ("or a folder of PNG/JPEG/WebP/BMP images (its train/ and test/ subfolders are the split, "
               "else a seeded 90/10 split)")


def add_image_folder_options(p):
    p.add_argument("--image-size", type=image_size, default=None, metavar="HxW",
                   help="resize every image of a folder to height x width pixels, e.g. 32x32 (needed when the "
                        "folder's images differ in size); the resized images are the dataset")
    p.add_argument("--skip-bad-files", action="store_true",
                   help="leave out the files of a folder that cannot be read as images (and say how many), "
                        "instead of stopping at the first")
