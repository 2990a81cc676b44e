"""Many images tiled into one picture, for TensorBoard and the comparison report. NumPy only."""

import numpy as np


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
