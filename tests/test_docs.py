"""The documentation site builds with warnings as errors, offline, documents every public name, and holds each
result table once.

The build is the one ``make docs`` runs (``python -m sphinx -W --keep-going``, ``docs/conf.py``: nitpicky, no
intersphinx, the notebooks from their stored outputs), into a temporary directory. What the pages look like is
checked by eye (headless Chromium screenshots), not here.
"""

import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
#: Packages whose ``__all__`` is their public API.
PACKAGES = ["losses", "vae_tf", "vae_tf.callbacks", "vae_tf.compression", "vae_tf.data", "vae_tf.distributions",
            "vae_tf.evaluation", "vae_tf.layers", "vae_tf.models", "vae_tf.models.vae", "vae_tf.models.hierarchical", "vae_tf.networks",
            "vae_tf.objectives", "vae_tf.support", "vae_tf.training", "vae_tf.comparison", "vae_tf.export",
            "vae_tf.errors"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The built site's directory, and the build's output (the build itself must succeed)."""
    out = tmp_path_factory.mktemp("docs")
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q", "-d", str(out / "doctrees"),
         str(DOCS), str(out / "html")], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"the site does not build cleanly:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return out / "html"


def test_the_site_builds_with_warnings_as_errors(site):
    for page in ["index.html", "api/losses.html", "guide/cli.html", "results/mnist.html",
                 "notebooks/01_mse_is_gaussian_nll.html"]:
        assert (site / page).is_file(), page


def test_the_pages_load_nothing_from_the_network(site):
    """Scripts, styles, fonts and pictures come from the site itself (MathJax too); links may point outside."""
    remote = re.compile(r"""<(?:script|img|link)\b[^>]*\b(?:src|href)=["'](?:https?:)?//""", re.I)
    offenders = [str(page.relative_to(site)) for page in site.rglob("*.html") if remote.search(page.read_text())]
    assert not offenders, f"pages that load remote assets: {offenders}"
    assert (site / "_static" / "mathjax" / "tex-chtml.js").is_file()


def test_math_is_typeset_on_the_pages_that_are_about_it(site):
    for page in ["api/losses.html", "api/layers.html", "api/distributions.html", "api/objectives.html",
                 "api/evaluation.html", "guide/why_mse.html"]:
        html = (site / page).read_text()
        assert 'class="math' in html, f"{page} has no math"
        assert "_static/mathjax/tex-chtml.js" in html, f"{page} does not load the local MathJax"


def documented_objects(site):
    """The objects the site documents, by identity, read from its inventory."""
    from sphinx.util.inventory import InventoryFile

    with open(site / "objects.inv", "rb") as f:
        inventory = InventoryFile.load(f, "", lambda base, uri: uri)
    found = {}
    for role, entries in inventory.items():
        if not role.startswith("py:"):
            continue
        for name in entries:
            obj = resolve(name)
            if obj is not None:
                found[id(obj)] = name
    return found


def resolve(dotted):
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr, None)
        return obj
    return None


def public_names(package):
    module = importlib.import_module(package)
    names = getattr(module, "__all__", None)
    if names is None:   # no __all__: the classes and functions defined there without a leading underscore
        names = [n for n, obj in vars(module).items() if not n.startswith("_")
                 and (inspect.isclass(obj) or inspect.isfunction(obj)) and obj.__module__ == package]
    return [(f"{package}.{name}", getattr(module, name)) for name in names]


def test_every_public_name_has_a_page(site):
    documented = documented_objects(site)
    missing = [name for package in PACKAGES for name, obj in public_names(package) if id(obj) not in documented]
    assert not missing, f"public names without documentation: {missing}"


def table_rows(text):
    return [line for line in text.splitlines() if line.startswith("|")]


def test_the_readme_mnist_table_is_the_results_page_table():
    """The README cannot include a file, so its one result table is checked against the file the results page
    includes: one table, written once, copied once under this test."""
    table = table_rows((DOCS / "results" / "mnist_table.md").read_text())
    assert len(table) > 10
    readme = (ROOT / "README.md").read_text()
    assert "\n".join(table) in readme, "README.md's MNIST table differs from docs/results/mnist_table.md"
    assert "mnist_table.md" in (DOCS / "results" / "mnist.md").read_text()


def test_the_readme_fits_one_screen_of_bytes():
    assert len((ROOT / "README.md").read_bytes()) <= 12_000
