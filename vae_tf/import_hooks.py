"""Running code around the first import of another package (TensorFlow, Keras), whoever imports it. Standard library only.

``import vae_tf`` is lazy, so what it used to do on import (hold back TensorFlow's start-up lines,
register its Keras classes) happens when the program later imports TensorFlow or Keras itself.
"""

import importlib.abc
import importlib.util
import sys


class _WrappingFinder(importlib.abc.MetaPathFinder):
    """Finds the modules it ``matches`` as the other finders do, and hands their loaders to ``wrap``."""

    _searching = False

    def matches(self, fullname):
        raise NotImplementedError

    def wrap(self, loader):
        raise NotImplementedError

    def find_spec(self, fullname, path=None, target=None):
        if self._searching or not self.matches(fullname):
            return None
        # Still on sys.meta_path: the search below would come back here without the flag.
        self._searching = True
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._searching = False
        if spec is None or spec.loader is None:
            return spec
        spec.loader = self.wrap(spec.loader)
        return spec


class _FirstImportHook(_WrappingFinder):
    """Executes the first import of ``name`` through ``around(execute, module)``; one shot.

    Not removed until the module executes: a look-up such as ``importlib.util.find_spec("keras")``
    (TensorFlow probes for keras) also comes here, and the real import must still meet this hook.
    """

    def __init__(self, name, around):
        self.name, self.around = name, around

    def matches(self, fullname):
        return fullname == self.name

    def wrap(self, loader):
        return _AroundLoader(loader, self)


class _AroundLoader(importlib.abc.Loader):
    def __init__(self, loader, hook):
        self.loader, self.hook = loader, hook

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        if self.hook in sys.meta_path:
            sys.meta_path.remove(self.hook)
        self.hook.around(lambda: self.loader.exec_module(module), module)


def around_first_import(name, around):
    """Executes the first later import of module ``name`` as ``around(execute, module)`` (``execute()`` runs it).

    Does nothing when ``name`` is already imported or a hook for it is already installed.
    """
    if name in sys.modules or any(isinstance(f, _FirstImportHook) and f.name == name for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _FirstImportHook(name, around))


class _PackageImports(_WrappingFinder):
    """Counts the imports of ``package``'s modules in progress, and runs callbacks when the outermost one ends."""

    def __init__(self, package):
        self.prefix, self.depth, self.pending = package + ".", 0, []

    def matches(self, fullname):
        return fullname.startswith(self.prefix)

    def wrap(self, loader):
        return _CountingLoader(loader, self)


class _CountingLoader:
    """``loader``, with its ``exec_module`` counted by ``imports``; every other attribute is ``loader``'s."""

    def __init__(self, loader, imports):
        self._loader, self._imports = loader, imports

    def __getattr__(self, name):
        return getattr(self._loader, name)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        imports = self._imports
        imports.depth += 1
        try:
            self._loader.exec_module(module)
        finally:
            imports.depth -= 1
        if imports.depth == 0:
            while imports.pending:
                imports.pending.pop(0)()


def track_package_imports(package):
    """Starts counting the imports of ``package.*`` in progress (call from ``package/__init__.py``); idempotent."""
    for finder in sys.meta_path:
        if isinstance(finder, _PackageImports) and finder.prefix == package + ".":
            return finder
    finder = _PackageImports(package)
    sys.meta_path.insert(0, finder)
    return finder


def after_package_imports(package, callback):
    """Calls ``callback()`` when no module of ``package`` is half imported: now, or when the outermost import ends.

    Code that imports ``package``'s modules must not run while one of them is executing: a module that
    imports Keras at its top (and so fires a registration hook) has defined nothing yet, and a module of
    the registration that imports from it would fail ("partially initialized module").
    """
    finder = track_package_imports(package)
    if finder.depth == 0:
        callback()
    else:
        finder.pending.append(callback)
