"""The worker's import rules, in process (azure_functions_worker/loader.py, utils/dependency.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from devhost.functions.imports import (
    APP_NAMESPACE,
    install_app_namespace,
    load_function,
    module_name,
)

APPS = Path(__file__).resolve().parents[3] / "apps"
LOADER_APP = (APPS / "loader").resolve()


@pytest.mark.parametrize(
    ("folder", "script", "expected"),
    [
        ("Hello", "__init__.py", "__app__.Hello"),
        ("Hello", "__INIT__.py", "__app__.Hello"),  # compared without case
        ("Hello", "main.py", "__app__.Hello.main"),
        ("Hello", "sub/main.py", "__app__.Hello.sub.main"),
    ],
)
def test_module_names_follow_the_worker(folder: str, script: str, expected: str) -> None:
    root = Path("/srv/app")
    assert module_name(folder, root, root / folder / script) == expected


def test_a_script_outside_the_app_or_not_python_cannot_load() -> None:
    root = Path("/srv/app")
    with pytest.raises(RuntimeError, match="is not relative to the specified directory"):
        module_name("Hello", root, Path("/elsewhere/main.py"))
    with pytest.raises(RuntimeError, match="cannot load function Hello: invalid Python filename"):
        module_name("Hello", root, root / "Hello" / "run.js")


def test_each_import_style_in_process() -> None:
    def main_of(folder: str, script: str = "__init__.py"):
        return load_function(folder, LOADER_APP, LOADER_APP / folder / script, "main")

    assert main_of("RelativeImport").__module__ == "__app__.RelativeImport"
    assert main_of("AppImport").__module__ == "__app__.AppImport"
    assert main_of("PlainImport").__module__ == "__app__.PlainImport"
    assert main_of("ScriptFile", "handler.py").__module__ == "__app__.ScriptFile.handler"
    assert main_of("Subdir", "sub/main.py").__module__ == "__app__.Subdir.sub.main"
    assert sys.modules[APP_NAMESPACE].__path__ == [str(LOADER_APP)]
    assert sys.path[-1] == str(LOADER_APP)  # the app root comes last


def test_an_import_error_gets_the_worker_hint() -> None:
    with pytest.raises(ModuleNotFoundError) as caught:
        load_function(
            "BrokenImport", LOADER_APP, LOADER_APP / "BrokenImport" / "__init__.py", "main"
        )
    assert str(caught.value).startswith(
        "No module named 'module_that_is_not_installed'. Cannot find module. Please check the "
        "requirements.txt file for the missing module."
    )


def test_a_missing_entry_point_names_the_function_and_file() -> None:
    with pytest.raises(RuntimeError) as caught:
        load_function("AppImport", LOADER_APP, LOADER_APP / "AppImport" / "__init__.py", "run")
    assert str(caught.value) == (
        "cannot load function AppImport: function run() is not present in AppImport/__init__.py"
    )


def test_loading_another_app_forgets_the_first() -> None:
    install_app_namespace(LOADER_APP)
    load_function("AppImport", LOADER_APP, LOADER_APP / "AppImport" / "__init__.py", "main")
    other = (APPS / "fidelity").resolve()
    install_app_namespace(other)
    assert "__app__.AppImport" not in sys.modules
    assert str(LOADER_APP) not in sys.path
    assert sys.modules[APP_NAMESPACE].__path__ == [str(other)]
