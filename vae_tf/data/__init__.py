"""Image datasets for VAEs: MNIST, Fashion-MNIST, binarized MNIST, CIFAR-10, a folder of images, the built-in digits.

Pixels are integer grey levels ``k = 0..L-1``, kept as float32 ``x = k / (L - 1)`` in [0, 1] with a trailing channel
axis, ``(N, H, W, C)`` (``C = 1``, or 3 for colour images); ``ImageData.num_levels`` is ``L`` (256 for ``uint8``
images, 17 for the digits' 0..16, 2 for binary images) and :func:`grey_levels` recovers ``k`` exactly. ``L`` goes on
from here to the decoder layer and its support: the package's one number of levels.

Its modules::

    levels        the grid k / (L - 1) and its one check; one fixed draw: dequantize_static, binarize_static
    sources       where the arrays come from: --data file or folder, $VAE_TF_DATA_DIR, keras.datasets, the digits
    image_folder  a folder of PNG / JPEG / WebP / BMP images as uint8 arrays, split (read with Pillow); every image
                  of a folder for the codec, read batch by batch (folder_images), and PNGs written back
    image_data    ImageData and load_dataset (train / validation / test); make_dataset, the tf.data pipeline
"""

from vae_tf.data.image_data import ImageData, load_dataset, make_dataset
from vae_tf.data.image_folder import IMAGE_EXTENSIONS, FolderImages, ImageFolder, folder_images, read_image_folder
from vae_tf.data.levels import (BINARIZATIONS, GRID_TOLERANCE, binarize_static, check_num_levels, dequantize_static,
                                fewest_levels, grey_levels, level_offsets, num_levels_of, smallest_level_dtype,
                                to_unit_interval)
from vae_tf.data.sources import DATASETS, DATA_DIR_ENV, NPZ_KEYS, SPLIT_NPZ_KEYS, load_arrays, read_npz

__all__ = [
    "BINARIZATIONS", "DATASETS", "DATA_DIR_ENV", "GRID_TOLERANCE", "IMAGE_EXTENSIONS", "FolderImages", "ImageData",
    "ImageFolder", "NPZ_KEYS", "SPLIT_NPZ_KEYS", "binarize_static", "check_num_levels", "dequantize_static",
    "fewest_levels", "folder_images", "grey_levels", "level_offsets", "load_arrays", "load_dataset", "make_dataset",
    "num_levels_of", "read_image_folder", "read_npz", "smallest_level_dtype", "to_unit_interval",
]
