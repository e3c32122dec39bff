"""Functions are imported as the Python worker imports them, through the real HTTP path.

Source of every rule: Azure/azure-functions-python-worker ``azure_functions_worker/loader.py``
(``install``, ``load_function``: the ``__app__`` namespace package and the module names),
``utils/dependency.py`` (``prioritize_customer_dependencies``: the app root last on
``sys.path``) and the worker's own loader tests (``tests/unittests/test_loader.py``:
``__app__.simple.main``, ``__app__.subdir.sub.main``, ``name_collision``,
``name_collision_app_import``, ``implicit_import``, ``module_not_found``).
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.support.host_process import HostProcess, running_host

APP = Path(__file__).resolve().parents[2] / "apps" / "loader"


@pytest.fixture(scope="module")
def loader_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    with running_host(APP, tmp_path_factory.mktemp("loader")) as host:
        yield host


def get(host: HostProcess, function: str) -> dict:
    answer = host.request("GET", f"/api/{function}")
    assert answer.status == 200, (function, answer.status, host.log_tail())
    return answer.json()


def test_relative_imports_of_shared_code(loader_host: HostProcess) -> None:
    # "from ..shared_code import helper", as Microsoft's Python guide shows for v1 apps
    body = get(loader_host, "RelativeImport")
    assert body["caller"] == "__app__.RelativeImport"
    assert body["helper"] == "__app__.shared_code.helper"


def test_app_namespace_imports_of_shared_code(loader_host: HostProcess) -> None:
    body = get(loader_host, "AppImport")
    assert body["caller"] == "__app__.AppImport"
    assert body["helper"] == "__app__.shared_code.helper"


def test_plain_imports_find_the_app_root_on_sys_path(loader_host: HostProcess) -> None:
    body = get(loader_host, "PlainImport")
    assert body["caller"] == "__app__.PlainImport"
    # a second module object, as under the worker: the name decides the module
    assert body["helper"] == "shared_code.helper"
    assert body["helper_loads"] == 1


def test_sub_packages_import_relatively(loader_host: HostProcess) -> None:
    body = get(loader_host, "SubPackage")
    assert body["deep"] == "__app__.shared_code.sub.deep"
    assert body["helper"] == "__app__.shared_code.helper"


def test_a_script_file_other_than_init(loader_host: HostProcess) -> None:
    body = get(loader_host, "ScriptFile")
    assert body == {
        "caller": "__app__.ScriptFile.handler",
        "sibling": "__app__.ScriptFile.sibling",
    }
    # scriptFile in a sub-folder: "__app__.subdir.sub.main" in the worker's tests
    assert get(loader_host, "Subdir")["caller"] == "__app__.Subdir.sub.main"


def test_installed_packages_win_over_app_folders_of_the_same_name(
    loader_host: HostProcess,
) -> None:
    body = get(loader_host, "NameCollision")
    assert body["plain"] == version("python-dateutil")
    assert body["app"] == "from.customer.code"


def test_an_import_error_leaves_the_other_functions_working(loader_host: HostProcess) -> None:
    answer = loader_host.request("GET", "/api/BrokenImport")
    assert answer.status == 500
    log = loader_host.log_tail(100000)
    assert (
        "Function 'BrokenImport' is in error: ModuleNotFoundError: No module named "
        "'module_that_is_not_installed'. Cannot find module. Please check the requirements.txt "
        "file for the missing module. For more info, please refer the troubleshooting guide: "
        "https://aka.ms/functions-modulenotfound. Current sys.path: ["
    ) in log
    assert get(loader_host, "AppImport")["caller"] == "__app__.AppImport"


def test_custom_classes_cross_to_activities_and_back(loader_host: HostProcess) -> None:
    # Microsoft's serialize_arguments sample: the class lives in shared code imported
    # relatively, so its module is __app__.shared_code.my_classes on both sides.
    loader_host.post_json("/api/orchestrators/SerializeArgs?instanceId=args-1", 21)
    status = loader_host.wait_for_status("args-1")
    assert status["runtimeStatus"] == "Completed", status
    assert status["output"] == {"number": 42, "class": "__app__.shared_code.my_classes"}
