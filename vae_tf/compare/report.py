"""``report.md``: the ranked tables, the ranking in words and how to read them, for a person.

The parts it is built from: :mod:`~vae_tf.compare.rows` (what a row is, the ranking),
:mod:`~vae_tf.compare.tables` (the tables), :mod:`~vae_tf.compare.results_files` (results.json and
.csv) and :mod:`~vae_tf.compare.plots` (the pictures).
"""

import os

from vae_tf.compare.rows import BINARIZED, GREY, MODEL, REFERENCE, ranked
from vae_tf.compare.tables import BINARIZED_COLUMNS, GREY_COLUMNS, markdown_table


def _agreement(rows):
    by = {r["name"]: r for r in rows}
    a, b = by.get("bin_bernoulli_nll"), by.get("bin_bernoulli_bce")
    if not (a and b):
        return ""
    diffs = {k: abs(a[k] - b[k]) for k in ("test_elbo", "test_iwae", "kl")}
    return (
        "**Bernoulli + NLL vs Bernoulli + BCE on binarized pixels.** For binary x, "
        "`BinaryCrossentropy` summed over pixels *is* `-log Bernoulli(x; sigmoid(l))`, so the two runs "
        "optimise the same objective from the same initialisation and data order. Their rows differ by "
        f"{diffs['test_elbo']:.3f} nats (ELBO), {diffs['test_iwae']:.3f} nats (IWAE) and {diffs['kl']:.3f} "
        "nats (KL): floating-point noise, not a modelling difference.\n"
    )


def ranking_in_words(rows, num_dims, table=GREY):
    """The ranking said in sentences: which model wins, by how much, where the MSE losses land, and
    where the best model stands among the reference codecs."""
    everything = [r for r in ranked(rows, table) if r["rank"] is not None]
    models = [r for r in everything if r.get("kind", MODEL) == MODEL]
    if not models:
        return ""
    best = models[0]

    def gap(r):
        diff = r["bits_per_dim"] - best["bits_per_dim"]
        return f"{diff:.3f} bits/dim ({diff * num_dims / 8:.1f} bytes per image) behind"

    words = [f"**Ranking.** Of the {len(models)} models, `{best['name']}` models the test images best, at "
             f"{best['bits_per_dim']:.4f} bits/dim ({best['bits_per_dim_method']})"]
    if len(models) > 1:
        words.append(f"; the runner-up `{models[1]['name']}` is {gap(models[1])}")
    words.append(". ")
    mse = [r for r in models if r.get("loss") in ("scaled_mse", "keras_mse")]
    if mse and mse[0]["name"] != best["name"]:
        top = mse[0]
        words.append(f"The best MSE-trained model, `{top['name']}`, ranks {models.index(top) + 1} of {len(models)}, "
                     f"{gap(top)}")
        if top.get("bits_per_dim_at_optimal_sigma") is not None:
            words.append(f"; its decoder means at the optimal sigma would score "
                         f"{top['bits_per_dim_at_optimal_sigma']:.4f} bits/dim")
        words.append(". ")
    bound = [r for r in models if r.get("bits_per_dim_method") == "dequantized bound"]
    if bound and bound[0]["name"] != best["name"]:
        top = bound[0]
        words.append(f"The best continuous density on dequantized data, `{top['name']}`, ranks "
                     f"{models.index(top) + 1}, {gap(top)} (its number is an upper bound on its bits/dim). ")
    worst = models[-1]
    if worst["name"] != best["name"]:
        words.append(f"Last is `{worst['name']}` at {worst['bits_per_dim']:.4f} bits/dim. ")
    references = [r for r in everything if r.get("kind") == REFERENCE]
    if references:
        beaten = [r["name"] for r in references if r["bits_per_dim"] > best["bits_per_dim"]]
        ahead = [r["name"] for r in references if r["bits_per_dim"] <= best["bits_per_dim"]]
        words.append(f"**Against the references** (not models: classic codecs and per-pixel marginals on the same "
                     f"integer test images), `{best['name']}` ranks {best['rank']} of {len(everything)}")
        if beaten:
            words.append(f"; it needs fewer bits than {', '.join(beaten)}")
        if ahead:
            words.append(f"; {', '.join(ahead)} {'does' if len(ahead) == 1 else 'do'} better "
                         f"(by {best['bits_per_dim'] - references[0]['bits_per_dim']:.3f} bits/dim for the best, "
                         f"{references[0]['name']})")
        words.append(".")
    return "".join(words).strip() + "\n"


def write_report(rows, out, settings):
    """``report.md``: the ranked grey-level table, the binarized table, the ranking in words, how to read them."""
    models = [r for r in rows if r.get("kind", MODEL) == MODEL]
    first = models[0]
    d = int(settings["num_dims"])
    levels = settings.get("num_levels")
    grey, binarized = ranked(rows, GREY), ranked(rows, BINARIZED)
    lines = [
        f"# vae-tf compare: {settings['dataset']}",
        "",
        f"Data: {settings['data_description']}. Every run: MLP encoder/decoder with hidden layers "
        f"{tuple(first['hidden'])}, latent_dim={first['latent_dim']}, {first['epochs']} epochs, batch size "
        f"{first['batch_size']}, Adam(1e-3), seed {first['seed']}. Bits/dim of the D = {d} pixels from IWAE with "
        f"k={first['iwae_k']} on the first {first['iwae_examples']} test images; other test numbers over all of them.",
        "",
    ]
    if grey:
        lines += [f"## Grey levels ({levels} levels), ranked by test bits/dim (lower is better)", "",
                  markdown_table(grey, GREY_COLUMNS), "", ranking_in_words(rows, d)]
        for r in grey:
            if r.get("no_bits_reason"):
                lines.append(f"`{r['name']}` has no bits/dim: {r['no_bits_reason']}.\n")
    if binarized:
        lines += ["## Binarized images (a different dataset: one fixed Bernoulli draw of the test images)", "",
                  markdown_table(binarized, BINARIZED_COLUMNS), "", ranking_in_words(rows, d, BINARIZED)]
    lines += ["Configurations:", ""]
    lines += [f"- `{r['name']}`: {r['description']}" for r in rows]
    lines += ["", "## How to read this", ""]
    lines += [
        "- **bits/dim** `= -log2 P(x) / D` of the integer image: what a lossless code built from the model would "
        "spend per pixel, never negative, lower is better. It puts every likelihood on one scale.",
        "- **exact**: the decoder is a distribution over the grey levels (discretized Gaussian, discretized "
        "logistic mixture, categorical; Bernoulli on binary pixels), so `P(x)` is the probability of the image "
        "itself (estimated by IWAE, a lower bound that tightens with k).",
        "- **dequantized bound**: a continuous density p (Gaussian, continuous Bernoulli) is scored on one fixed "
        "draw `(k + u) / L`, `u ~ U[0, 1)`: `log P(k) >= E_u[log p((k + u) / L)] - D log L` (Theis et al., 2016), "
        "so its bits/dim is an upper bound on the true one. A model trained on the raw grey values "
        "(`*_raw`) is scored in the same way: a density that spiked on the grey levels pays for it here.",
        "- **bits/dim at optimal sigma** (fixed-sigma rows only): the same decoder means with the shared sigma set "
        "to `sqrt(test MSE)`. An MSE loss fixes sigma; this column judges its means fairly against a model that "
        "learned sigma.",
        "- **test log P(x) nats**: `log P(x)` per image (exact or the bound), `-bits/dim * D * ln 2`.",
        "- **active units**: latent dimensions j with `Var_x(E_q[z_j|x]) > 0.01`. Few active units means the "
        "KL term won (posterior collapse).",
        "- **recon. MSE**: per-pixel squared error of the decoder mean at the posterior mean; **train s** is the "
        "whole fit (validation included).",
        "",
    ]
    for r in models:
        if r.get("implied_sigma"):
            lines.append(
                f"**The Keras `\"mse\"` pitfall (`{r['name']}`).** Keras' `\"mse\"` averages over the D = {d} pixels: "
                f"`mean-MSE + KL` is a Gaussian decoder with sigma = sqrt(D/2) = {r['implied_sigma']:.2f}, i.e. relative "
                f"to the sigma = 1 you probably meant, a hidden KL weight beta = D / (2 sigma^2) = {r['implied_beta']:.0f}. "
                f"It ends with {r['active_units']} active latent units and a reconstruction MSE of {r['recon_mse']:.4f}.\n")
    agreement = _agreement(rows)
    if agreement:
        lines.append(agreement)
    lines += [
        "## Files",
        "",
        "- `results.json` (every number and each run's learning curves), `results.csv` (the numbers)",
        "- `learning_curves.png`: validation negative ELBO in bits/dim and KL per epoch, all runs",
    ]
    lines += [f"- `{r['reconstructions_png']}`, `{r['samples_png']}`" for r in models]
    lines += ["", "![learning curves](learning_curves.png)", ""]
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(lines))
