"""What a comparison's rows say in words: the row vocabulary (a row's ``kind`` and ``table``), ties within their
standard errors, the ranking in words, what the pictures show, when every model is weak, and what per-file headers
cost. :mod:`vae_tf.comparison.report` puts these sentences under its tables.
"""

import math

from vae_tf.comparison.references import MARGINALS
from vae_tf.long_jobs import count_of


#: A row's ``kind``: a trained configuration.
MODEL = "model"
#: A row's ``kind``: a number from elsewhere (a classic codec's bits/dim, the per-pixel marginals).
REFERENCE = "reference"
#: A row's ``table``: the integer images, ranked by bits/dim.
GREY = "grey"
#: A row's ``table``: binarized images, a different dataset with its own table.
BINARIZED = "binarized"


def reference_row(name, bits_per_dim, description="", table=GREY, **extra):
    """A row that is not a trained model (e.g. a classic codec's rate) for the ranked table of ``table``."""
    return {"kind": REFERENCE, "table": table, "name": name, "description": description,
            "bits_per_dim": float(bits_per_dim), "bits_per_dim_method": "reference", **extra}


def ranked(rows, table=GREY):
    """The rows of ``table``, best (lowest) bits/dim first, rows without bits/dim last; each gets ``rank``."""
    chosen = [r for r in rows if r.get("table", GREY) == table]
    with_bits = sorted((r for r in chosen if r.get("bits_per_dim") is not None), key=lambda r: r["bits_per_dim"])
    without = [r for r in chosen if r.get("bits_per_dim") is None]
    out = [{**r, "rank": i} for i, r in enumerate(with_bits, 1)]
    return out + [{**r, "rank": None} for r in without]


#: A difference in bits/dim smaller than this many standard errors (of the difference) is a tie.
TIE_STANDARD_ERRORS = 2.0
#: Decoders whose pictures (means over the levels) can look worse than their likelihood says.
LEVEL_DISTRIBUTIONS = ("categorical", "logistic_mixture")


def bce_nll_agreement_note(rows):
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


def difference_standard_error(a, b):
    """``sqrt(se_a^2 + se_b^2)`` of two rows' bits/dim (a reference's is 0: its number has no sampling noise
    of its own), or None when neither row has one."""
    ses = [r.get("bits_per_dim_se") for r in (a, b)]
    if all(se is None for se in ses):
        return None
    return math.sqrt(sum((se or 0.0) ** 2 for se in ses))


def is_tie(a, b):
    """True when ``|bpd_a - bpd_b| < TIE_STANDARD_ERRORS * difference_standard_error(a, b)``."""
    se = difference_standard_error(a, b)
    return se is not None and abs(a["bits_per_dim"] - b["bits_per_dim"]) < TIE_STANDARD_ERRORS * se


def _names(rows):
    names = [f"`{r['name']}`" for r in rows]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def ranking_in_words(rows, num_dims, table=GREY):
    """The ranking said in sentences: which model wins and by how much (or ties, within two standard errors),
    where the MSE losses land, and where the best model stands among the references of this table."""
    everything = [r for r in ranked(rows, table) if r["rank"] is not None]
    models = [r for r in everything if r.get("kind", MODEL) == MODEL]
    if not models:
        return ""
    best = models[0]

    def gap(r):
        diff = r["bits_per_dim"] - best["bits_per_dim"]
        se = difference_standard_error(r, best)
        noise = f", s.e. {se:.3f}" if se is not None else ""
        return f"{diff:.3f} bits/dim ({diff * num_dims / 8:.1f} bytes per image{noise}) behind"

    tied = [r for r in models[1:] if is_tie(r, best)]
    leaders = [best] + tied  # no row is "best" when the test images cannot tell the first rows apart
    rates = " and ".join(f"{r['bits_per_dim']:.4f}" for r in leaders)
    opening = (f"The one model, `{best['name']}`, scores" if len(models) == 1 else
               f"Of the {len(models)} models, {_names(leaders)} tie for the best, at" if tied else
               f"Of the {len(models)} models, `{best['name']}` models the test images best, at")
    words = [f"**Ranking.** {opening} {rates} bits/dim ({best['bits_per_dim_method']})"]
    if tied:
        words.append(f": within {TIE_STANDARD_ERRORS:g} standard errors of the difference, so these test images do "
                     "not settle the order between them")
    elif len(models) > 1:
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
    if len(models) > 2 and worst not in tied:
        words.append(f"Last is `{worst['name']}` at {worst['bits_per_dim']:.4f} bits/dim. ")
    references = [r for r in everything if r.get("kind") == REFERENCE]
    if references:
        kinds = ["classic codecs" if any(r.get("bytes") is not None for r in references) else None,
                 "per-pixel marginals" if any(r.get("bytes") is None for r in references) else None]
        beaten = [r["name"] for r in references if r["bits_per_dim"] > best["bits_per_dim"] and not is_tie(r, best)]
        even = [r["name"] for r in references if is_tie(r, best)]
        ahead = [r for r in references if r["bits_per_dim"] <= best["bits_per_dim"] and not is_tie(r, best)]
        who = f"`{best['name']}`" + (f" (tied with {_names(tied)})" if tied else "")
        words.append(f"**Against the references** (not models: {' and '.join(k for k in kinds if k)} on the same "
                     f"integer test images), {who} ranks {best['rank']} of {len(everything)}")
        if beaten:
            words.append(f"; it needs fewer bits than {', '.join(beaten)}")
        if even:
            words.append(f"; it ties with {', '.join(even)}")
        if ahead:
            words.append(f"; {', '.join(r['name'] for r in ahead)} {'does' if len(ahead) == 1 else 'do'} better "
                         f"(by {best['bits_per_dim'] - ahead[0]['bits_per_dim']:.3f} bits/dim for the best, "
                         f"{ahead[0]['name']})")
        words.append(".")
    return "".join(words).strip() + "\n"


def what_you_see(rows, table=GREY):
    """The ranking held against the pictures: where the best likelihood is not the best-looking model, and why.

    "Best-looking" is measured, not judged: the lowest reconstruction MSE at the posterior mean is the
    reconstruction closest to the test images. The why is what the pictures show: decoder means.
    """
    models = [r for r in ranked(rows, table) if r["rank"] is not None and r.get("kind", MODEL) == MODEL]
    if len(models) < 2:
        return ""
    best = models[0]
    closest = min(models, key=lambda r: r["recon_mse"])
    words = ["**What you see.** The pictures show decoder means, not samples of `p(x|z)`: reconstructions at "
             "`z = E[q(z|x)]`, and samples at `z ~ p(z)`. "]
    if closest["name"] == best["name"]:
        words.append(f"Here the best likelihood, `{best['name']}`, also draws the reconstructions closest to the "
                     f"test images (MSE {best['recon_mse']:.4f}). ")
    else:
        words.append(f"The best likelihood, `{best['name']}`, is not the model whose reconstructions look closest "
                     f"to the test images: that is `{closest['name']}` (MSE {closest['recon_mse']:.4f} against "
                     f"{best['recon_mse']:.4f}). Likelihood and looks measure different things: a likelihood pays "
                     "for every level of doubt in every sub-pixel, a picture of the mean shows none of it. ")
    if best.get("likelihood") in LEVEL_DISTRIBUTIONS:
        words.append(f"`{best['name']}` is a distribution over the levels of each sub-pixel: its mean averages "
                     "over all of them, so a sub-pixel it is unsure of (0 or 255 at a stroke's edge) comes out as "
                     "a grey between the two, and its pictures look blotchier than the probability it gives the "
                     "true image would suggest. ")
    collapsed = [r for r in models if r.get("active_units") is not None and r["active_units"] <= 1]
    words.append("Samples decode `z` drawn from the prior; where the encoder's posteriors do not fill the prior, "
                 "such `z` fall between the training images and decode to shapes unlike any of them")
    if collapsed:
        units = [f"`{r['name']}`, with {'no' if r['active_units'] == 0 else r['active_units']} active latent "
                 f"unit{'s' if r['active_units'] > 1 else ''}," for r in collapsed]  # each ends in a comma
        listed = " ".join(units[:-1]) + " and " + units[-1] if len(units) > 1 else units[0]
        words.append(f" (and {listed} {'draws' if len(collapsed) == 1 else 'draw'} nearly the same image for "
                     "every `z`: posterior collapse)")
    words.append(".")
    return "".join(words) + "\n"


#: What to try when every model is weak (:func:`weak_models_note`), then the strong decoders not yet tried.
WEAK_MODELS_ADVICE = ("more epochs (`--epochs`), more images, a smaller `--latent-dim` or network (`--hidden`, "
                      "`--network mlp`)")


def weak_models_note(rows, settings, table=GREY, images=None):
    """A paragraph when the best model of ``table`` does not beat the per-pixel marginals (no latent variable) or the
    uniform code (``log2 L`` bits/dim: the sub-pixels as they are), with the likely cause and what to try; "" when it
    does. Markdown for the report; plain, naming the ``images``, for the console."""
    everything = [r for r in ranked(rows, table) if r["rank"] is not None]
    models = [r for r in everything if r.get("kind", MODEL) == MODEL]
    levels = 2 if table == BINARIZED else settings.get("num_levels")
    marginals = next((r for r in everything if r.get("name") == MARGINALS), None)
    if not models:
        return ""
    best, misses = models[0], []
    if marginals is not None and (best["bits_per_dim"] >= marginals["bits_per_dim"] or is_tie(best, marginals)):
        misses.append(f"the per-pixel marginals ({marginals['bits_per_dim']:.4f} bits/dim: an independent "
                      "categorical per sub-pixel, no latent variable)")
    if levels and best["bits_per_dim"] >= math.log2(levels):
        misses.append(f"the uniform code (log2 {levels} = {math.log2(levels):.4g} bits/dim: every sub-pixel stored "
                      "as it is)")
    if not misses:
        return ""
    parameters = max(r.get("parameters") or 0 for r in models)
    budget = [f"{settings['train_examples']:,} training images" if settings.get("train_examples") else None,
              count_of(best.get("epochs") or 0, "epoch"), f"up to {parameters:,} parameters" if parameters else None]
    budget = ", ".join(b for b in budget if b)
    others = [f"`{name}`" for name in ("categorical", "logistic_mixture") if name not in {r["name"] for r in models}]
    decoders = f", or the {' and '.join(others)} decoder{'s' if len(others) > 1 else ''}" if others else ""
    headline = "**Every model is weak here.**" if images is None else f"Every model is weak here ({images} images)."
    return (f"{headline} The best model, `{best['name']}`, at {best['bits_per_dim']:.4f} bits/dim, does not beat "
            f"{' nor '.join(misses)}. The likely cause: too few images or epochs for the models' size "
            f"({budget}). Try {WEAK_MODELS_ADVICE}{decoders}.\n")


#: The bytes of a lossless JPEG 2000 (JP2) file of an all-zero 28x28 grey image, that is, of its headers
#: (``tests/test_report.py``).
JP2_HEADER_BYTES = 218


def per_file_headers_note(rows, num_dims, table=GREY):
    """Where JPEG 2000 is shown: why it can cost more than the pixels on small images (``8 x 218 / D`` bits/dim of
    per-file headers before any pixel is coded)."""
    row = next((r for r in ranked(rows, table) if r.get("name") == "JPEG 2000 lossless" and r["rank"]), None)
    if row is None:
        return ""
    return (f"**Per-file headers.** The image codecs code one file per image, headers included, and on small images "
            f"the headers weigh: a JPEG 2000 (JP2) file that codes nothing at all holds {JP2_HEADER_BYTES} bytes (an "
            f"all-zero 28x28 image), {8 * JP2_HEADER_BYTES / int(num_dims):.2f} bits/dim of these images of D = "
            f"{num_dims} sub-pixels before any pixel is coded. That is why `JPEG 2000 lossless` reads "
            f"{row['bits_per_dim']:.2f} bits/dim here.\n")
