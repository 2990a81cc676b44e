"""The ``tf.data`` training pipeline: shuffled batches, dynamically binarized or dequantized every epoch.

* dynamic dequantization: a fresh ``u`` for every batch of every epoch (``dequantize=L``);
* dynamic binarization: a fresh draw of every training image every epoch (Burda et al., 2015),
  inside the pipeline (``binarize="dynamic"``).
"""

import numpy as np
import tensorflow as tf

from vae_tf.data.levels import check_num_levels, grey_levels
from vae_tf.data.transforms import binarize_static, check_binarize
from vae_tf.errors import InvalidInputError


def make_dataset(x, batch_size=100, binarize=None, shuffle=True, seed=0, dequantize=None):
    """A ``tf.data`` pipeline of ``(x, x)`` batches (the VAE's input is its target), prefetched.

    ``binarize="dynamic"`` draws ``b = 1[u < x]`` afresh for every batch of every epoch from
    a stateless generator whose seeds ``tf.data.Dataset.random`` re-draws each iteration, so
    runs are repeatable but no two epochs see the same binary images. ``"static"`` binarizes
    once with :func:`binarize_static`. ``dequantize=L`` turns grey levels ``x = k / (L - 1)``
    into ``(k + u) / L``, ``u ~ U[0, 1)``, with a fresh ``u`` for every batch of every epoch
    in the same stateless, repeatable way. Shuffling also reshuffles every epoch.
    """
    binarize = check_binarize(binarize)
    x = np.asarray(x, np.float32)
    if dequantize is not None:
        if binarize is not None:
            raise InvalidInputError("make_dataset: binarize and dequantize exclude each other (pick one representation).")
        levels = check_num_levels(dequantize)
        # Integer levels travel through the pipeline, so k is exact whatever float rounding did to x.
        x = grey_levels(x, levels).astype(np.float32)
    if binarize == "static":
        x = binarize_static(x, seed)
    ds = tf.data.Dataset.from_tensor_slices(x)
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if binarize == "dynamic" or dequantize is not None:
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        if binarize == "dynamic":
            draw = lambda xb, s: tf.cast(tf.random.stateless_uniform(tf.shape(xb), seed=s) < xb, tf.float32)  # noqa: E731
        else:
            draw = lambda kb, s: (kb + tf.random.stateless_uniform(tf.shape(kb), seed=s)) / float(levels)  # noqa: E731
        ds = tf.data.Dataset.zip(ds, seeds).map(draw, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.map(lambda xb: (xb, xb)).prefetch(tf.data.AUTOTUNE)
