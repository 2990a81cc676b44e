"""The README's API reference names every public class and function of `losses` and `vae_tf.layers`,
with the signatures' real defaults."""

import ast
import inspect
import re
from pathlib import Path

import pytest

import losses
import vae_tf

README = Path(__file__).resolve().parents[1] / "README.md"


def api_reference():
    text = README.read_text()
    start = text.index("## API reference")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def test_api_reference_covers_every_public_name():
    section = api_reference()
    for module in (losses, vae_tf.layers):
        missing = [name for name in module.__all__ if not re.search(rf"\b{name}\b", section)]
        assert not missing, f"README API reference lacks {module.__name__}: {missing}"


@pytest.mark.parametrize("cls", [
    losses.NegativeLogLikelihood, losses.ScaledMSE, losses.BinaryCrossentropy,
    vae_tf.layers.IndependentNormal, vae_tf.layers.IndependentBernoulli,
    vae_tf.layers.IndependentContinuousBernoulli, vae_tf.layers.DiagonalGaussianPosterior,
    vae_tf.layers.IndependentDiscretizedLogisticMixture, vae_tf.layers.IndependentCategorical,
    vae_tf.layers.IndependentDiscretizedNormal,
], ids=lambda c: c.__name__)
def test_api_reference_signature_matches_the_code(cls):
    match = re.search(rf"`{cls.__name__}\(([^`]*)\)`", api_reference())
    assert match, f"README API reference has no signature for {cls.__name__}"
    call = ast.parse(f"f({match.group(1)})", mode="eval").body
    written = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}
    positional = [arg.id for arg in call.args]
    params = inspect.signature(cls.__init__).parameters
    for name in positional:
        assert name in params and params[name].default is inspect.Parameter.empty, f"{cls.__name__}: {name}"
    for name, value in written.items():
        assert name in params, f"{cls.__name__} has no argument {name}"
        assert params[name].default == value, f"{cls.__name__}: {name} defaults to {params[name].default!r}, README says {value!r}"
