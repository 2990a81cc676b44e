"""Sphinx configuration of the vae-tf documentation (``make docs``; ``tests/test_docs.py`` builds it too).

Offline by construction: no intersphinx, the theme's and MathJax's assets come from their pip packages
(furo, sphinx-mathjax-offline), and the notebooks are rendered from their stored outputs, never executed.
"""

import importlib
import inspect
import re
import sys
from pathlib import Path

from docutils import nodes
from sphinx.errors import PycodeError
from sphinx.pycode import ModuleAnalyzer
from sphinx.transforms import SphinxTransform
from sphinx.util.docutils import SphinxDirective

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))              # losses, vae_tf and vae_tf_cli from this checkout

from vae_tf_cli import import_vae_tf  # noqa: E402

import_vae_tf()   # as the command line does: TensorFlow's start-up lines are no part of the build log

project = "vae-tf"
author = "the vae-tf authors"
copyright = "the vae-tf authors"
release = version = "0.1.0"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",   # MathJax 3 copied into _static: math renders without a network
    "sphinxarg.ext",            # the CLI reference, read from vae_tf_cli.build_parser
    "myst_nb",                  # Markdown pages and the notebooks
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "jupyter_execute", "**/.ipynb_checkpoints"]

# Every cross-reference must resolve; names of the libraries underneath (no intersphinx: offline) are plain text.
nitpicky = True
OUTSIDE = ("tf", "tensorflow", "tensorflow_probability", "keras", "tfp", "tfd", "np", "numpy", "constriction", "PIL")
nitpick_ignore_regex = [(r"py:.*", rf"({'|'.join(OUTSIDE)})(\..*)?")]

autodoc_default_options = {"members": True, "member-order": "bysource", "show-inheritance": True}
autodoc_inherit_docstrings = False   # Keras' and TFP's docstrings belong to their own documentation
autodoc_typehints = "none"          # the docstrings say what each argument is
autoclass_content = "class"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
nb_execution_mode = "off"           # tests/test_notebooks.py executes them; the pages show the stored outputs
nb_merge_streams = True

highlight_language = "text"   # a docstring's plain-text formula is no Python
html_theme = "furo"
html_title = "vae-tf"
html_static_path = ["_static"]
html_css_files = ["custom.css"]   # a wider content column (see the file)
html_show_sourcelink = False


OURS = ("vae_tf", "losses")


def skip_members_of_other_libraries(app, what, name, obj, skip, options):
    """Leaves out the methods TFP's metaclass copies into every distribution (``log_prob``, ``kl_divergence``, ...)
    and anything else whose code lives in another library: they are documented there."""
    code = getattr(obj, "fget", obj)
    module = getattr(code, "__module__", None)
    if what in ("class", "exception") and module and module.split(".")[0] not in OURS:
        return True
    return None


def is_constant(name, obj):
    return name.isupper() and not name.startswith("_") and not callable(obj) and not inspect.ismodule(obj)


class PublicConstants(SphinxDirective):
    """``.. public-constants:: vae_tf.data`` documents the constants a package lists in ``__all__``.

    autodoc leaves them out of ``automodule``: they are defined, with their ``#:`` comment, in one of the package's
    modules and imported into the package, which has no comment of its own for them."""

    required_arguments = 1

    def run(self):
        name = self.arguments[0]
        module = importlib.import_module(name)
        constants = [attr for attr in module.__all__ if is_constant(attr, getattr(module, attr))]
        return self.parse_text_to_nodes("\n\n".join(f".. autodata:: {name}.{attr}" for attr in constants))


def doc_comment_of_reexported_constant(app, what, name, obj, options, lines):
    """A constant's ``#:`` comment, found in the package module that defines it, instead of the docstring of its type
    (``str``, ``dict``) that autodoc falls back to."""
    package, _, attribute = name.rpartition(".")
    if what != "data" or not is_constant(attribute, obj):
        return
    type_doc = (type(obj).__doc__ or "").strip().splitlines()
    if lines and not (type_doc and lines[0].strip() == type_doc[0].strip()):
        return   # its own comment
    lines.clear()
    for module in sorted(m for m in sys.modules if m == package or m.startswith(package + ".")):
        try:
            comment = ModuleAnalyzer.for_module(module).find_attr_docs().get(("", attribute))
        except PycodeError:
            continue
        if comment and getattr(sys.modules[module], attribute, None) is obj:
            lines.extend(comment)
            return


def plain_formula_shown_as_math(app, what, name, obj, options, lines):
    """A docstring gives a formula twice: as plain text for ``help()`` (a ``::`` literal block) and, right after it,
    as a ``.. math::`` block for these pages. The pages show the math only: the literal block goes, and its
    introducing ``::`` becomes ``:``."""
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.rstrip().endswith("::") or line.lstrip().startswith(".."):
            i += 1
            continue
        indent = len(line) - len(line.lstrip())
        end = i + 1
        while end < len(lines) and (not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > indent):
            end += 1
        math_follows = end < len(lines) and lines[end].strip() == ".. math::"
        if math_follows and len(lines[end]) - len(lines[end].lstrip()) == indent:
            stripped = line.rstrip()[:-2].rstrip()
            lines[i:end] = ([stripped + ":"] if stripped else []) + [""]
        i += 1


def signature_of_init(app, what, name, obj, options, signature, return_annotation):
    """Keras layers and models define ``__new__(cls, *args, **kwargs)``, which autodoc would show as the class's
    signature; the arguments a user passes are ``__init__``'s."""
    init_module = getattr(getattr(obj, "__init__", None), "__module__", "") or ""
    if what in ("class", "exception") and signature == "(*args, **kwargs)" and init_module.split(".")[0] in OURS:
        parameters = list(inspect.signature(obj.__init__).parameters.values())[1:]
        return str(inspect.Signature(parameters)), return_annotation
    return None


OPTION = re.compile(r"((?<![\w-])--[a-z][a-z0-9-]*)")


class OptionsAsCode(SphinxTransform):
    """A command-line option in running text (the CLI reference's help strings: "overrides --dataset") becomes code,
    so that smart quotes, which run next, do not turn its two hyphens into a dash."""

    default_priority = 700   # docutils' SmartQuotes runs at 750

    def apply(self):
        skip = (nodes.literal, nodes.FixedTextElement, nodes.math, nodes.raw, nodes.comment)
        for text in list(self.document.findall(nodes.Text)):
            parent = text.parent
            if parent is None or any(isinstance(node, skip) for node in _ancestors(text)):
                continue
            parts = [part for part in OPTION.split(text.astext()) if part]
            if len(parts) > 1 or (parts and OPTION.fullmatch(parts[0])):
                parent.replace(text, [nodes.literal(p, p) if OPTION.fullmatch(p) else nodes.Text(p) for p in parts])


def _ancestors(node):
    while node.parent is not None:
        node = node.parent
        yield node


def setup(app):
    app.add_transform(OptionsAsCode)
    app.connect("autodoc-process-signature", signature_of_init)
    app.connect("autodoc-process-docstring", plain_formula_shown_as_math)
    app.connect("autodoc-skip-member", skip_members_of_other_libraries)
    app.add_directive("public-constants", PublicConstants)
    app.connect("autodoc-process-docstring", doc_comment_of_reexported_constant)
