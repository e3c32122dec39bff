"""Import a v1 function the way the Python worker does.

The rules, from ``Azure/azure-functions-python-worker`` (``azure_functions_worker/loader.py``,
``dispatcher.py`` and ``utils/dependency.py``):

- ``loader.install``: a namespace package ``__app__`` is put in ``sys.modules`` whose search
  path is the app root (``register_function_dir`` adds each function folder's parent).
- ``loader.load_function``: the module name is ``__app__`` + the folders of ``scriptFile``
  relative to the app root + the file's name, the file name left out when it is
  ``__init__.py`` (compared without case). So ``Hello/__init__.py`` is ``__app__.Hello`` and
  ``Hello/main.py`` is ``__app__.Hello.main``. A file that does not end in ``.py`` cannot be
  loaded; the entry point (default ``main``) must be a callable attribute of the module.
- ``DependencyManager.prioritize_customer_dependencies`` (and the environment reload) append
  the app root to ``sys.path``: last, so an installed package wins over an app folder of the
  same name, and ``import shared_code`` works besides ``from ..shared_code import x`` and
  ``from __app__.shared_code import x``.
- An ``ImportError`` gets the worker's hint appended (``attach_message_to_exception``).

One host process may load several apps one after the other (tests do); loading another app
forgets the previous app's modules and its ``sys.path`` entry, which the worker, serving one
app per process, never needs.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["APP_NAMESPACE", "install_app_namespace", "load_function", "module_name"]

APP_NAMESPACE = "__app__"
MODULE_NOT_FOUND_HINT = (
    "Cannot find module. Please check the requirements.txt file for the missing module. "
    "For more info, please refer the troubleshooting guide: "
    "https://aka.ms/functions-modulenotfound. Current sys.path: {path}"
)

_installed_root: str | None = None
_added_to_path = False
_modules_before: frozenset[str] = frozenset()


def install_app_namespace(root: Path) -> None:
    """Make ``__app__`` the app root's namespace package and put the root last on sys.path."""
    global _installed_root, _added_to_path, _modules_before
    root_text = str(root)
    if _installed_root == root_text and APP_NAMESPACE in sys.modules:
        return
    if _installed_root is not None:
        _forget_app(_installed_root)
    _modules_before = frozenset(sys.modules)
    _added_to_path = root_text not in sys.path
    spec = importlib.machinery.ModuleSpec(APP_NAMESPACE, None, is_package=True)
    spec.submodule_search_locations = [root_text]
    sys.modules[APP_NAMESPACE] = importlib.util.module_from_spec(spec)
    if _added_to_path:
        sys.path.append(root_text)
    sys.path_importer_cache.clear()
    importlib.invalidate_caches()
    _installed_root = root_text


def _forget_app(root_text: str) -> None:
    """Drop a previously loaded app: its ``__app__`` modules, plain imports and path entry.

    Only modules imported since that app was installed go (never the host's own).
    """
    with_sep = root_text.rstrip(os.sep) + os.sep
    for name, module in list(sys.modules.items()):
        if name == APP_NAMESPACE or name.startswith(APP_NAMESPACE + "."):
            del sys.modules[name]
            continue
        origin = getattr(module, "__file__", None)
        if name not in _modules_before and isinstance(origin, str) and origin.startswith(with_sep):
            del sys.modules[name]
    if _added_to_path:
        while root_text in sys.path:
            sys.path.remove(root_text)


def module_name(function_name: str, app_root: Path, script_file: Path) -> str:
    """The worker's module name for a function's ``scriptFile``."""
    try:
        relative = script_file.relative_to(app_root)
    except ValueError:
        raise RuntimeError(
            f"script path {script_file} is not relative to the specified directory "
            f"{app_root / function_name}"
        ) from None
    stem, extension = os.path.splitext(relative.parts[-1])
    if extension != ".py":
        raise RuntimeError(
            f"cannot load function {function_name}: invalid Python filename {script_file}"
        )
    parts = [APP_NAMESPACE, *relative.parts[:-1]]
    if stem.lower() != "__init__":  # the package itself: avoid loading the file twice
        parts.append(stem)
    return ".".join(parts)


def load_function(
    function_name: str, app_root: Path, script_file: Path, entry_point: str
) -> Callable[..., Any]:
    """Import the function's module as ``__app__.…`` and return its entry point."""
    install_app_namespace(app_root)
    name = module_name(function_name, app_root, script_file)
    try:
        module = importlib.import_module(name)
    except ImportError as error:
        raise _with_hint(error) from error
    main = getattr(module, entry_point, None)
    if main is None or not callable(main):
        raise RuntimeError(
            f"cannot load function {function_name}: function {entry_point}() is not present "
            f"in {script_file.relative_to(app_root)}"
        )
    return main


def _with_hint(error: ImportError) -> ImportError:
    # utils/tracing.py extend_exception_message: same type, the hint after the message.
    old = getattr(error, "msg", None) or str(error) or ""
    text = (old.rstrip(".") + ". " + MODULE_NOT_FOUND_HINT.format(path=sys.path)).rstrip()
    try:
        extended = type(error)(text)
    except TypeError:
        extended = ImportError(text)
    extended.name = error.name
    return extended.with_traceback(error.__traceback__)
