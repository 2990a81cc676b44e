"""The package's imports flow one way: no circle, no module importing a layer above its own.

Read from the sources with ``ast`` (nothing is imported): every ``import`` and ``from ... import``
of a ``vae_tf`` or ``losses`` module, at module level or inside a function (a lazy import is still
a dependency). The order of the layers is written down here, lowest first; a module may import its
own component and any component of a lower layer, never one of its own layer's other components
nor a higher one.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: The layers, lowest first. A component is ``vae_tf.<name>`` (a module or a package).
LAYERS = [
    # Standard library only.
    {"errors", "long_jobs", "atomic_files", "support"},
    {"data"},
    {"validation"},
    {"distributions"},
    {"layers"},
    {"networks"},
    {"reconstruction"},
    {"objectives"},
    {"evaluation"},
    {"callbacks"},
    {"models"},
    {"training"},
    {"comparison", "compression", "export"},
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _sources():
    files = [path for package in ("vae_tf", "losses", "vae_tf_cli") for path in sorted((ROOT / package).rglob("*.py"))]
    return {_module_name(path): path for path in files}


SOURCES = _sources()


def _resolve(name):
    """The module a dotted name refers to: itself if it is one of ours, else its nearest package.

    ``vae_tf.losses`` is the top-level ``losses`` package (the same module objects).
    """
    if name == "vae_tf.losses" or name.startswith("vae_tf.losses."):
        name = "losses" + name[len("vae_tf.losses"):]
    while name and name not in SOURCES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module, path):
    """The modules of ours that ``module`` imports, with the line of each import."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            # `from pkg import sub` imports the submodule when there is one.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in SOURCES or f"{base}.{alias.name}" == "vae_tf.losses"
                       else base for alias in node.names]
        else:
            continue
        for target in targets:
            resolved = _resolve(target)
            if resolved is not None and resolved != module:
                found.append((resolved, node.lineno))
    return found


GRAPH = {module: _imports(module, path) for module, path in SOURCES.items()}


def _component(module):
    parts = module.split(".")
    return parts[1] if parts[0] == "vae_tf" and len(parts) > 1 else None


def test_the_library_never_imports_its_command_line():
    wrong = [f"{module}:{line} imports {target}" for module, targets in GRAPH.items() if module.split(".")[0] != "vae_tf_cli"
             for target, line in targets if target.split(".")[0] == "vae_tf_cli"]
    assert not wrong, wrong


def test_the_graph_is_read():
    assert "vae_tf.models.vae.model" in GRAPH and "losses" in GRAPH
    assert any(target == "vae_tf.objectives" for target, _ in GRAPH["vae_tf.models.vae.model"])


def test_every_component_has_a_layer():
    components = {_component(m) for m in SOURCES if m != "vae_tf.losses"} - {None}
    assert components <= set(RANK), f"add to LAYERS: {sorted(components - set(RANK))}"


def test_no_circle():
    """Depth-first search over module -> imported module; a back edge is a circle."""
    state, stack, circles = {}, [], []

    def visit(module):
        state[module] = "open"
        stack.append(module)
        for target, _ in GRAPH[module]:
            if state.get(target) == "open":
                circles.append(" -> ".join(stack[stack.index(target):] + [target]))
            elif target not in state:
                visit(target)
        stack.pop()
        state[module] = "done"

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)
    assert not circles, "import circles:\n" + "\n".join(circles)


def test_no_import_against_the_layer_order():
    wrong = []
    for module, targets in GRAPH.items():
        source = _component(module)
        if source is None:  # the package root (lazy public names) and the losses package
            continue
        for target, line in targets:
            if target == "vae_tf" and source != "cli":
                wrong.append(f"{module}:{line} imports the vae_tf package root (import the module it needs)")
                continue
            other = _component(target)
            if other is None or other == source:
                continue
            if RANK[other] >= RANK[source]:
                wrong.append(f"{module}:{line} imports {target} ({other}: layer {RANK[other]}, "
                             f"not below {source}'s {RANK[source]})")
    assert not wrong, "imports against the layer order:\n" + "\n".join(sorted(wrong))


@pytest.mark.parametrize("module", sorted(m for m in SOURCES if m.split(".")[0] == "losses"))
def test_losses_never_import_vae_tf(module):
    assert not [t for t, _ in GRAPH[module] if t.split(".")[0] == "vae_tf"], module
