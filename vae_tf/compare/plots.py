"""The pictures of a comparison: image grids (reconstructions, samples) and the learning curves."""

import numpy as np

from vae_tf.compare.rows import BINARIZED, GREY, MODEL
from vae_tf.atomic_files import atomic_path
from vae_tf.image_grid import image_grid


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path, dpi):
    """``fig`` to ``path`` atomically (a stopped run never leaves half a PNG), then closed."""
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=dpi, format="png", bbox_inches="tight")
    _plt().close(fig)


def save_grid(path, images, columns, title):
    """``images`` ``(n, H, W, C)`` tiled ``columns`` wide (:func:`vae_tf.image_grid.image_grid`) into a PNG at ``path``:
    grey for one channel, RGB for three (no channel dropped or averaged)."""
    grid = image_grid(images, columns, pad=0)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4, 4 * grid.shape[0] / grid.shape[1] + 0.4))
    if grid.shape[-1] == 1:
        ax.imshow(grid[..., 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    elif grid.shape[-1] == 3:
        ax.imshow(grid, interpolation="nearest")
    else:
        raise ValueError(f"save_grid shows 1 (grey) or 3 (RGB) channels, got {grid.shape[-1]}.")
    ax.set_axis_off()
    ax.set_title(title, fontsize=8)
    _save(fig, path, dpi=80)


def save_learning_curves(rows, path):
    """:func:`learning_curves_figure` of ``rows`` as a PNG at ``path``."""
    _save(learning_curves_figure(rows), path, dpi=64)


def learning_curves_figure(rows):
    """Validation bits/dim per epoch (the negative ELBO of the integer image; integer and binarized images
    apart) and the validation KL, every trained run; one legend below the panels, where it covers no curve."""
    from matplotlib.ticker import LogLocator, MaxNLocator, ScalarFormatter

    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    models = [r for r in rows if r.get("kind", MODEL) == MODEL]
    # One colour per run, the same in the three panels (tab20 once the ten default colours run out).
    palette = plt.get_cmap("tab10" if len(models) <= 10 else "tab20")
    colours = {r["name"]: palette(i % palette.N) for i, r in enumerate(models)}
    for ax, table in zip(axes[:2], (GREY, BINARIZED)):
        for r in models:
            curve = r["history"].get("val_bits_per_dim")
            if r["table"] == table and curve:
                ax.plot(np.arange(1, len(curve) + 1), curve, marker=".", color=colours[r["name"]], label=r["name"])
        ax.set(xlabel="epoch", ylabel="bits / dim",
               title=f"validation -ELBO, {'integer' if table == GREY else 'binarized'} images (bits/dim)")
        if ax.get_legend_handles_labels()[0]:
            ax.set_yscale("log")
            # Plain numbers on the log axis (3.6, not 3.6x10^0), at a few readable positions.
            ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)))
            ax.yaxis.set_minor_locator(LogLocator(base=10, subs=np.arange(1, 10)))
            formatter = ScalarFormatter()
            formatter.set_scientific(False)
            ax.yaxis.set_major_formatter(formatter)
            ax.yaxis.set_minor_formatter(plt.NullFormatter())
        else:
            ax.text(0.5, 0.5, "no runs", ha="center", va="center", transform=ax.transAxes, color="grey")
    for r in models:
        h = r["history"]
        axes[2].plot(np.arange(1, len(h["val_kl"]) + 1), h["val_kl"], marker=".", color=colours[r["name"]],
                     label=r["name"])
    axes[2].set(xlabel="epoch", ylabel="nats / image", title="validation KL(q(z|x) || p(z))")
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    handles, labels = axes[2].get_legend_handles_labels()
    if handles:
        # One legend for the three panels (same colour, same run), below them: it covers no curve.
        fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(5, len(labels)),
                   fontsize=8, frameon=False)
    fig.tight_layout()
    return fig
