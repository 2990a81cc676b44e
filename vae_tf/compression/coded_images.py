"""What the bits-back coder reads: an array of integer images or a folder of image files, checked against the
model and read batch by batch (:class:`CodedImages`), so that a folder is never held in memory whole."""

import collections.abc
import dataclasses
import os

import numpy as np

from vae_tf.data.image_folder import FolderImages, folder_images
from vae_tf.errors import BadImagesError


@dataclasses.dataclass
class CodedImages:
    """What the coder reads: ``count`` images, ``read(start, stop)`` giving ``(stop - start, *event_shape)``
    integers of ``dtype``, and what the header says of them: the original array's ``shape`` (for a folder
    ``(count, *event_shape)``), a folder's ``files`` and ``image_size`` (see ``file_format.FileHeader``).
    """

    count: int
    shape: tuple
    dtype: np.dtype
    read: collections.abc.Callable
    files: list = None
    image_size: list = None


def check_levels(low, high, coding):
    """One line unless every value lies in ``0 .. L - 1``, the levels the model codes."""
    top = coding.num_levels - 1
    if low < 0 or high > top:
        hint = " Binarize them first (the model is Bernoulli)." if coding.num_levels == 2 else ""
        raise BadImagesError(
            f"images hold values {low}..{high}, but the model's {type(coding.model.likelihood).__name__} "
            f"codes {coding.num_levels} levels 0..{top}.{hint}")


def images_to_code(images, coding):
    """An array (checked: :func:`as_levels`), a :class:`FolderImages`, or a folder's path, as :class:`CodedImages`."""
    if isinstance(images, (str, os.PathLike)) and os.path.isdir(images):
        images = folder_images(images, coding.event_shape)
    if not isinstance(images, FolderImages):
        arr, levels = as_levels(images, coding)
        return CodedImages(len(levels), tuple(arr.shape), arr.dtype, lambda start, stop: levels[start:stop])
    if tuple(images.shape) != coding.event_shape:
        raise BadImagesError(f"the folder's images are read as {images.shape}; the model codes {coding.event_shape}.")
    check_levels(0, images.max_level, coding)
    files = [[name, *size, mode] for name, size, mode in zip(images.names, images.sizes, images.modes)]
    return CodedImages(len(images), (len(images),) + coding.event_shape, np.dtype(np.uint8), images.read, files,
                       None if images.image_size is None else list(images.image_size))


def as_levels(images, coding):
    """``(array, levels (count, *event_shape))``, a view in the array's dtype; :class:`BadImagesError` for anything
    else."""
    try:
        arr = np.asarray(images)
    except (ValueError, TypeError) as err:
        raise BadImagesError(f"images cannot be read as one array ({err}).") from None
    top = coding.num_levels - 1
    if not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool):
        raise BadImagesError(
            f"images must be integer levels 0..{top} as a dataset stores them (e.g. uint8); got dtype {arr.dtype}. "
            f"Float pixels in [0, 1]? Convert back with np.rint(x * {top}).astype(np.uint8).")
    event = coding.event_shape
    rank = len(event)
    if arr.ndim >= rank and tuple(arr.shape[arr.ndim - rank:]) == event:
        batch = arr.shape[:arr.ndim - rank]
    elif rank >= 2 and event[-1] == 1 and arr.ndim >= rank - 1 and tuple(arr.shape[arr.ndim - rank + 1:]) == event[:-1]:
        batch = arr.shape[:arr.ndim - rank + 1]
    else:
        raise BadImagesError(
            f"images of shape {arr.shape} do not end in the model's image shape {event}; "
            f"pass an array of shape (count, {', '.join(map(str, event))}).")
    count = int(np.prod(batch, dtype=np.int64))
    if count == 0:
        raise BadImagesError(f"no images to compress: the array has shape {arr.shape}.")
    check_levels(int(arr.min()), int(arr.max()), coding)
    return arr, arr.reshape((count,) + event)
