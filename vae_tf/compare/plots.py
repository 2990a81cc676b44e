"""The pictures of a comparison: image grids (reconstructions, samples) and the learning curves."""

import numpy as np

from vae_tf.compare.rows import BINARIZED, GREY, MODEL
from vae_tf.image_grid import image_grid

def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_grid(path, images, columns, title):
    """``images`` ``(n, H, W, C)`` tiled ``columns`` wide (:func:`vae_tf.image_grid.image_grid`) into a PNG at ``path``."""
    grid = image_grid(images, columns, pad=0)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4, 4 * grid.shape[0] / grid.shape[1] + 0.4))
    if grid.shape[-1] == 1:
        ax.imshow(grid[..., 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    else:
        ax.imshow(grid, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def save_learning_curves(rows, path):
    """Validation bits/dim per epoch (the negative ELBO of the integer image; grey levels and binarized
    apart) and the validation KL, every trained run."""
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    models = [r for r in rows if r.get("kind", MODEL) == MODEL]
    for ax, table in zip(axes[:2], (GREY, BINARIZED)):
        for r in models:
            curve = r["history"].get("val_bits_per_dim")
            if r["table"] == table and curve:
                ax.plot(np.arange(1, len(curve) + 1), curve, marker=".", label=r["name"])
        ax.set(xlabel="epoch", ylabel="bits / dim",
               title=f"validation -ELBO, {'grey levels' if table == GREY else 'binarized'} (bits/dim)")
        if ax.get_legend_handles_labels()[0]:
            ax.set_yscale("log")
            ax.legend(fontsize=7)
    for r in models:
        h = r["history"]
        axes[2].plot(np.arange(1, len(h["val_kl"]) + 1), h["val_kl"], marker=".", label=r["name"])
    axes[2].set(xlabel="epoch", ylabel="nats / image", title="validation KL(q(z|x) || p(z))")
    fig.tight_layout()
    fig.savefig(path, dpi=64)
    plt.close(fig)


