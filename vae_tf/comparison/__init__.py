"""One VAE per loss on the same data and budget, ranked on one scale (bits/dim), with what the loss changes in words.

Its modules::

    runner      compare / run_compare: train, score and picture every configuration, resumable
    references  the classic codecs and the per-pixel marginals on the same integer test images
    report      report.md and the console tables: the ranking, in tables and in words
    outputs     results.json, results.csv, the pictures

``vae_tf.compare`` is :func:`vae_tf.compare`.
"""

from vae_tf.comparison.runner import compare, run_compare

__all__ = ["compare", "run_compare"]
