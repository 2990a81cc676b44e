"""``report.md`` and the console tables: the ranked tables, and under them the sentences of
:mod:`vae_tf.comparison.findings` (the ranking in words, what the pictures show, how to read it all). The rows are
dicts whose ``kind`` and ``table`` are that module's :data:`~vae_tf.comparison.findings.MODEL` or
:data:`~vae_tf.comparison.findings.REFERENCE`, and :data:`~vae_tf.comparison.findings.GREY` or
:data:`~vae_tf.comparison.findings.BINARIZED`. The report is rewritten after every configuration, so a run in
progress (or stopped) has a report of what it finished.
"""

import math
import os

from vae_tf.atomic_files import atomic_path
from vae_tf.comparison.findings import (BINARIZED, GREY, MODEL, REFERENCE, TIE_STANDARD_ERRORS, bce_nll_agreement_note,
                                        per_file_headers_note, ranked,
                                        ranking_in_words, reference_row, weak_models_note, what_you_see)
from vae_tf.long_jobs import count_of

__all__ = ["GREY_COLUMNS", "BINARIZED_COLUMNS", "markdown_table", "text_table", "text_tables", "budget_sentence",
           "layer_kl_text", "write_report", "reference_row", "ranked", "MODEL", "REFERENCE", "GREY", "BINARIZED"]


#: (key, header, format) of the ranked grey-level table, in order.
GREY_COLUMNS = [
    ("rank", "rank", "{}"),
    ("name", "configuration", "{}"),
    ("bits_per_dim", "bits/dim", "{:.4f}"),
    ("bits_per_dim_se", "± s.e.", "{:.4f}"),
    ("bits_per_dim_method", "bits/dim is", "{}"),
    ("bits_per_dim_at_optimal_sigma", "bits/dim at optimal sigma", "{:.4f}"),
    ("log_prob", "test log P(x) nats", "{:.1f}"),
    ("recon_mse", "MSE at z = posterior mean", "{:.4f}"),
    ("kl", "KL", "{:.2f}"),
    ("active_units", "active units", "{}"),
    ("train_seconds", "train s", "{:.1f}"),
    ("epochs", "epochs", "{}"),
]
#: (key, header, format) of the binarized table, the grey table's with the IWAE and ELBO in place of the sigma columns.
BINARIZED_COLUMNS = GREY_COLUMNS[:4] + [("test_iwae", "test log p(x) IWAE", "{:.2f}"),
                                        ("test_elbo", "test ELBO", "{:.2f}")] + GREY_COLUMNS[7:]


def _cell(value, fmt):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return fmt.format(value)


def _row_cell(row, key, fmt):
    """A reference without bits/dim says why in its cell ("n/a: JPEG 2000 lossless failed on ..."): its reason is
    one short phrase. A model's reason is a sentence, written under the table (:func:`write_report`)."""
    if key == "bits_per_dim" and row.get(key) is None and row.get("kind") == REFERENCE and row.get("no_bits_reason"):
        return f"n/a: {row['no_bits_reason']}"
    return _cell(row.get(key), fmt)


def table_rows(rows, columns):
    return [[h for _, h, _ in columns]] + [[_row_cell(r, k, f) for k, _, f in columns] for r in rows]


def markdown_table(rows, columns=GREY_COLUMNS):
    cells = table_rows(rows, columns)
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + "|".join(" --- " for _ in cells[0]) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in cells[1:]]
    return "\n".join(lines)


def text_table(rows, columns=GREY_COLUMNS):
    cells = table_rows(rows, columns)
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
    fmt = lambda r: "  ".join(c.ljust(w) if i <= 1 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))  # noqa: E731
    return "\n".join([fmt(cells[0]), "  ".join("-" * w for w in widths)] + [fmt(r) for r in cells[1:]])


def text_tables(rows):
    """Both tables for the console: integer images ranked by bits/dim, then binarized."""
    parts = []
    grey, binarized = ranked(rows, GREY), ranked(rows, BINARIZED)
    if grey:
        parts.append("Integer images, ranked by test bits/dim (lower is better):\n" + text_table(grey, GREY_COLUMNS))
    if binarized:
        parts.append("Binarized images (a different dataset):\n" + text_table(binarized, BINARIZED_COLUMNS))
    return "\n\n".join(parts)


def _levels_phrase(settings):
    levels = settings.get("num_levels")
    kind = "colour: R, G, B sub-pixels" if settings.get("channels", 1) == 3 else "grey: one sub-pixel per pixel"
    return f"{kind}, {levels} levels each" if levels else kind


def budget_sentence(settings, models):
    """Which budget the ranking is at: equal compute (``--minutes``) or equal epochs, in one paragraph."""
    minutes = settings.get("minutes")
    if minutes is None:
        epochs = settings.get("max_epochs") or models[0].get("max_epochs", models[0]["epochs"])
        seconds = [r["train_seconds"] for r in models if r.get("train_seconds")]
        spread = (f" (from {min(seconds):.0f} to {max(seconds):.0f} s each: see the table)" if len(seconds) > 1
                  else "")
        return (f"**Ranked at equal epochs**: every configuration trained {epochs} epoch{'s' if epochs != 1 else ''}, "
                f"which cost them different training time{spread}; `--minutes M` ranks at equal compute "
                f"instead.\n\n")
    epochs = sorted({r["epochs"] for r in models})
    runs = f"{epochs[0]}" if len(epochs) == 1 else f"{epochs[0]} to {epochs[-1]}"
    return (f"**Ranked at equal compute: {minutes:g} minute{'s' if minutes != 1 else ''} of training per "
            f"configuration** (wall clock, compilation and validation included; training stops at the first step "
            f"past the budget, inside an epoch if need be, at most {settings.get('max_epochs')} epochs). That bought {runs} epochs (see each row's training seconds "
            f"and epochs). `learning_curves.png` plots validation bits/dim against training time for every "
            f"configuration, so the ranking can be read at any smaller budget too.\n\n")


def _header(rows, settings, models):
    first = models[0]
    d = int(settings["num_dims"])
    planned = settings.get("configurations")
    progress = ""
    if planned and len(models) < len(planned):
        left = [n for n in planned if n not in {r["name"] for r in models}]
        progress = (f"**In progress or stopped: {len(models)} of {len(planned)} configurations finished** "
                    f"(still to run: {', '.join(left)}). Rerun the same command to resume.\n\n")
    networks = sorted({f"{r.get('network', 'MLP')}" for r in models})
    parameters = sorted({r.get("parameters") for r in models if r.get("parameters")})
    size = (f" ({parameters[0]:,} to {parameters[-1]:,} parameters, by decoder)" if len(parameters) > 1 else
            f" ({parameters[0]:,} parameters)" if parameters else "")
    if any(r.get("precision") == "mixed_bfloat16" for r in models):
        size += (" (hidden layers in bfloat16, which this CPU computes natively; the distributions' parameters and "
                 "likelihoods in float32)")
    scored = sorted({r.get("scored_examples", r.get("iwae_examples")) for r in models})
    tested = sorted({r.get("test_examples") for r in models if r.get("test_examples")})
    return progress + budget_sentence(settings, models) + (
        f"Data: {settings['data_description']} ({_levels_phrase(settings)}; D = {d} sub-pixels per image). "
        f"Every run: {' / '.join(networks)} encoder and decoder{size}, latent_dim={first['latent_dim']}, "
        f"batch size {first['batch_size']}, Adam(1e-3), seed {first['seed']}. "
        f"Bits/dim, its standard error, `log P(x)`, the ELBO and IWAE (k={first['iwae_k']}) are taken on the "
        f"same first {', '.join(map(str, scored))} test images; the MSE, KL and active units on all "
        f"{', '.join(map(str, tested)) or 'of them'}.")


def layer_kl_text(row, before="", after=""):
    """``"per latent layer, top first: 1.2, 30.5 nats"`` (between ``before`` and ``after``) for a row of a model with
    several latent layers; ``""`` for one."""
    layers = row.get("layer_kl") or []
    if len(layers) < 2:
        return ""
    return f"{before}per latent layer, top first: {', '.join(f'{v:.2f}' for v in layers)} nats{after}"


def write_report(rows, out, settings):
    """``report.md``: the ranked tables, the ranking in words, what you see, how to read them."""
    models = [r for r in rows if r.get("kind", MODEL) == MODEL]
    d = int(settings["num_dims"])
    grey, binarized = ranked(rows, GREY), ranked(rows, BINARIZED)
    lines = [f"# vae-tf compare: {settings['dataset']}", ""]
    if models:
        lines += [_header(rows, settings, models), ""]
    if grey:
        lines += [f"## Integer images ({_levels_phrase(settings)}), ranked by test bits/dim (lower is better)", "",
                  markdown_table(grey, GREY_COLUMNS), "", ranking_in_words(rows, d), what_you_see(rows),
                  weak_models_note(rows, settings, GREY), per_file_headers_note(rows, d, GREY)]
        for r in grey:
            if r.get("no_bits_reason") and r.get("kind", MODEL) == MODEL:
                lines.append(f"`{r['name']}` has no bits/dim: {r['no_bits_reason']}.\n")
    if binarized:
        lines += ["## Binarized images (a different dataset: one fixed Bernoulli draw of the test images)", "",
                  markdown_table(binarized, BINARIZED_COLUMNS), "", ranking_in_words(rows, d, BINARIZED),
                  weak_models_note(rows, settings, BINARIZED), per_file_headers_note(rows, d, BINARIZED)]
    lines += ["Configurations:", ""]
    described = {}
    for r in rows:
        described.setdefault(r["name"], r["description"])
    lines += [f"- `{name}`: {description}" for name, description in described.items()]
    lines += [f"- `{r['name']}` on the {r['network']}: test KL {layer_kl_text(r)}" for r in models if layer_kl_text(r)]
    lines += ["", "## How to read this", ""]
    # The baseline of the rows scored on the integer images themselves (not dequantized, not binarized).
    baseline = next((r for r in grey if r.get("kind") == MODEL and not r.get("dequantized")
                     and r.get("mean_image_mse") is not None), None)
    lines += [
        "- **bits/dim** `= -log2 P(x) / D` of the integer image, D counting sub-pixels: what a lossless code built "
        "from the model would spend per sub-pixel, never negative, lower is better. It puts every likelihood on "
        "one scale.",
        f"- **± s.e.**: the standard error of that mean over the scored test images. Two rows whose difference is "
        f"below {TIE_STANDARD_ERRORS:g} standard errors of the difference are called a tie.",
        "- **exact**: the decoder is a distribution over the levels (discretized Gaussian, discretized "
        "logistic mixture, categorical; Bernoulli on binary pixels), so `P(x)` is the probability of the image "
        "itself (estimated by IWAE, a lower bound that tightens with k).",
        "- **dequantized bound**: a continuous density p (Gaussian, continuous Bernoulli) is scored on one fixed "
        "draw `(k + u) / L`, `u ~ U[0, 1)`: `log P(k) >= E_u[log p((k + u) / L)] - D log L` (Theis et al., 2016), "
        "so its bits/dim is an upper bound on the true one. A model trained on the raw values "
        "(`*_raw`) is scored in the same way: a density that spiked on the levels pays for it here.",
        "- **bits/dim at optimal sigma** (fixed-sigma rows only): the same decoder means with the shared sigma set "
        "to `sqrt(test MSE)`. An MSE loss fixes sigma; this column judges its means fairly against a model that "
        "learned sigma.",
        "- **test log P(x) nats**: `log P(x)` per image (exact or the bound), `-bits/dim * D * ln 2`.",
        "- **active units**: latent dimensions j with `Var_x(E_q[z_j|x]) > 0.01`. Few active units means the "
        "KL term won (posterior collapse).",
        "- **MSE at z = posterior mean**: per-sub-pixel squared error of the decoder mean at `z = E[q(z|x)]` "
        + (f"(predicting every integer test image by the mean test image scores {baseline['mean_image_mse']:.4f}; "
           "a collapsed model can do worse, since its posterior mean is an atypical `z`)" if baseline else "")
        + "; **train s** is the whole fit (validation included).",
        "",
    ]
    for r in models:
        if r.get("implied_sigma"):
            baseline = (f" (the mean test image alone scores {r['mean_image_mse']:.4f})"
                        if r.get("mean_image_mse") is not None else "")
            lines.append(
                f"**The Keras `\"mse\"` pitfall (`{r['name']}`).** Keras' `\"mse\"` averages over the D = {d} "
                f"sub-pixels: `mean-MSE + KL` is a Gaussian decoder with sigma = sqrt(D/2) = {r['implied_sigma']:.2f}, "
                f"i.e. relative to the sigma = 1 you probably meant, a hidden KL weight beta = D / (2 sigma^2) = "
                f"{r['implied_beta']:.0f}. It ends with {count_of(r['active_units'], 'active latent unit')} and a "
                f"reconstruction MSE at the posterior mean of {r['recon_mse']:.4f}{baseline}.\n")
    agreement = bce_nll_agreement_note(rows)
    if agreement:
        lines.append(agreement)
    lines += [
        "## Files",
        "",
        "- `results.json` (every number and each run's learning curves), `results.csv` (the numbers)",
        "- `learning_curves.png`: validation negative ELBO in bits/dim and KL at the end of every epoch, against "
        "training time (minutes, wall clock), all runs",
    ]
    lines += [f"- `{r['reconstructions_png']}`, `{r['samples_png']}`" for r in models]
    lines += ["", "![learning curves](learning_curves.png)", ""]
    with atomic_path(os.path.join(out, "report.md")) as tmp, open(tmp, "w") as f:
        f.write("\n".join(lines))
