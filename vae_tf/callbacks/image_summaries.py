"""Reconstructions and samples as TensorBoard images, tiled by :func:`image_grid`."""

import math
import os

import keras
import numpy as np
import tensorflow as tf

from vae_tf.errors import InvalidInputError, check_positive_int
from vae_tf.validation import check_images


def image_grid(images, columns, pad=1):
    """``(rows (H + pad) + pad, columns (W + pad) + pad, C)``: ``images`` ``(n, H, W, C)`` tiled row by row.

    ``rows = ceil(n / columns)``; values are clipped to [0, 1]; the padding and any unfilled cells
    are white (1). Every channel is kept (``C = 1`` grey, ``C = 3`` colour).
    """
    images = np.clip(np.asarray(images, np.float32), 0.0, 1.0)
    if images.ndim != 4:
        raise ValueError(f"image_grid tiles images of shape (n, H, W, C), got {images.shape}.")
    n, h, w, c = images.shape
    rows = -(-n // columns)
    grid = np.ones((rows * (h + pad) + pad, columns * (w + pad) + pad, c), np.float32)
    for i, image in enumerate(images):
        r, col = divmod(i, columns)
        top, left = pad + r * (h + pad), pad + col * (w + pad)
        grid[top:top + h, left:left + w] = image
    return grid


def _as_images(x, event_shape):
    """``(n, H, W, C)`` with C in {1, 3, 4}: ``(H, W)`` gains a channel, a flat ``(D,)`` event a square."""
    event_shape = tuple(int(d) for d in event_shape)
    n = x.shape[0]
    if len(event_shape) == 3 and event_shape[-1] in (1, 3, 4):
        return np.reshape(x, (n,) + event_shape)
    if len(event_shape) == 2:
        return np.reshape(x, (n,) + event_shape + (1,))
    if len(event_shape) == 1 and math.isqrt(event_shape[0]) ** 2 == event_shape[0]:
        side = math.isqrt(event_shape[0])
        return np.reshape(x, (n, side, side, 1))
    raise InvalidInputError(f"ImageSummaries shows images of shape (H, W), (H, W, 1|3|4) or (D,) with D a square; "
                     f"the model's event_shape is {event_shape}.")


class ImageSummaries(keras.callbacks.Callback):
    """Writes two images to TensorBoard at the end of every ``every`` epochs (step = epoch index).

    - ``reconstructions``: the images ``x`` (odd rows) above their reconstructions
      ``VAE.reconstruct(x)`` (the mean of ``p(x|z)`` at ``z = E[q(z|x)]``, even rows);
    - ``samples``: ``VAE.sample(num_samples, seed=seed)``, the same latent draws every epoch,
      so the pictures show the decoder learning.

    Values are clipped to [0, 1]. The event file goes to ``log_dir/run`` (default
    ``log_dir/images``), so with ``keras.callbacks.TensorBoard(log_dir)`` TensorBoard shows the
    runs ``train``, ``validation`` and ``images`` side by side::

        tensorboard --logdir log_dir

    Args:
        log_dir: TensorBoard log directory.
        x: a few images (e.g. 8 validation images), ``(n, *event_shape)`` in the model's range.
        num_samples: images drawn from the prior.
        every: write every this many epochs (the last epoch is written too).
        seed: seed of the samples' latent draws.
        run: subdirectory of ``log_dir`` for the event file.
    """

    def __init__(self, log_dir, x, num_samples=16, every=1, seed=0, run="images", columns=8):
        super().__init__()
        self.log_dir = os.fspath(log_dir)
        self.x = x
        self.num_samples = check_positive_int(num_samples, "num_samples")
        self.every = check_positive_int(every, "every")
        self.columns = check_positive_int(columns, "columns")
        self.seed = int(seed)
        self.run = run
        self._writer = None

    def on_train_begin(self, logs=None):
        self.x = check_images(self.x, getattr(self.model, "likelihood", None), name="ImageSummaries x")
        _as_images(self.x[:1], self.model.event_shape)  # a clear error now rather than after an epoch
        self._writer = tf.summary.create_file_writer(os.path.join(self.log_dir, self.run))

    def on_epoch_end(self, epoch, logs=None):
        last = self.params.get("epochs") if self.params else None
        if (epoch + 1) % self.every and epoch + 1 != last:
            return
        self.write(epoch)

    def write(self, step):
        """Writes both images at ``step`` now."""
        event_shape = self.model.event_shape
        originals = _as_images(self.x, event_shape)
        reconstructions = _as_images(np.asarray(self.model.reconstruct(self.x)), event_shape)
        samples = _as_images(np.asarray(self.model.sample(self.num_samples, seed=self.seed)), event_shape)
        columns = min(self.columns, len(originals))
        pairs = []
        for start in range(0, len(originals), columns):
            pairs += [originals[start:start + columns], reconstructions[start:start + columns]]
        # Each row of originals sits above its reconstructions; a short last row is padded with white.
        rows = [np.concatenate([row, np.ones((columns - len(row),) + row.shape[1:], np.float32)]) for row in pairs]
        side = min(self.columns, math.ceil(math.sqrt(self.num_samples)))
        with self._writer.as_default():
            tf.summary.image("reconstructions", image_grid(np.concatenate(rows), columns)[None], step=step)
            tf.summary.image("samples", image_grid(samples, side)[None], step=step)
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None
