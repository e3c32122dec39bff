"""The import layering, read from the source with ``ast`` (nothing is imported or run).

The host's packages point one way (entry point -> front -> functions; hub -> core; core does
no I/O), the host and the backup app never import each other, and the tools never import the
tests. ``RULES`` says it once; each rule names why it exists, so a failure reads as a reason.
The checker itself is tested on small synthetic trees at the end.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
SKIP_DIRS = frozenset({".git", ".venv", "node_modules", "__pycache__", ".ruff_cache"})

# Modules that reach outside the process: the replay core must not need any of them.
IO_MODULES = frozenset(
    {
        "aiohttp",
        "asyncio",
        "azure",
        "concurrent",
        "fcntl",
        "http",
        "io",
        "multiprocessing",
        "os",
        "pathlib",
        "requests",
        "select",
        "selectors",
        "shutil",
        "signal",
        "socket",
        "sqlite3",
        "subprocess",
        "tempfile",
        "threading",
        "urllib",
    }
)


def under(*packages: str) -> Callable[[str], bool]:
    """True for a module that is one of ``packages`` or inside one."""
    return lambda name: any(name == p or name.startswith(p + ".") for p in packages)


@dataclass(frozen=True)
class Rule:
    why: str
    importer: Callable[[str], bool]
    forbidden: Callable[[str], bool]


def _core_may_not(name: str) -> bool:
    if name.split(".")[0] in IO_MODULES:
        return True
    own = under("devhost.core", "devhost.contracts")(name) or name == "devhost"
    return under("devhost")(name) and not own


RULES = (
    Rule(
        "the replay core is pure: no I/O, nothing of the hub, front or functions",
        under("devhost.core", "devhost.contracts"),
        _core_may_not,
    ),
    Rule(
        "the front knows the hub only through contracts (and the hub's client API)",
        under("devhost.front"),
        lambda n: under("devhost.hub", "devhost.core")(n) and not under("devhost.hub.client")(n),
    ),
    Rule(
        "the hub does not serve HTTP",
        under("devhost.hub"),
        under("devhost.front", "devhost.runner", "devhost.__main__"),
    ),
    Rule(
        "functions are used by the hub and the front, never the other way",
        under("devhost.functions"),
        under("devhost.hub", "devhost.core", "devhost.front", "devhost.runner"),
    ),
    Rule(
        "the host knows the app only through function.json: it never imports the backup",
        under("devhost"),
        under("sitebackup", "backup_client", "bench", "faults", "tests"),
    ),
    Rule(
        "the app stays deployable: function folders and the backup package never import the host",
        lambda n: n.startswith("<function>") or under("sitebackup")(n),
        under("devhost", "backup_client", "bench", "faults", "tests"),
    ),
    Rule(
        "tools and the client do not depend on the tests",
        under("bench", "faults", "backup_client"),
        under("tests"),
    ),
)


def python_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*.py")):
        if not SKIP_DIRS.intersection(path.relative_to(root).parts):
            yield path


def function_folders(root: Path) -> set[Path]:
    return {
        p.parent
        for p in root.rglob("function.json")
        if not SKIP_DIRS.intersection(p.relative_to(root).parts)
    }


def module_name(root: Path, path: Path, functions: set[Path]) -> str:
    """The dotted name; code in a function folder is named ``<function>.Folder...``."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    for folder in functions:
        if path.is_relative_to(folder):
            inner = path.relative_to(folder).with_suffix("").parts
            return ".".join(["<function>", folder.name, *inner])
    return ".".join(parts)


def _module_level(tree: ast.AST) -> Iterator[ast.AST]:
    """Statements that run (or type-check) at import: not those inside function bodies."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                stack.append(child)


def imported(
    tree: ast.AST, module: str, is_package: bool, *, deferred: bool = True
) -> Iterator[tuple[str, int]]:
    """Every module an import statement names (TYPE_CHECKING blocks too; imports inside
    functions unless ``deferred`` is False)."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree) if deferred else _module_level(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base, node.lineno
            for alias in node.names:
                yield f"{base}.{alias.name}", node.lineno  # may be a submodule


def violations(root: Path, rules: tuple[Rule, ...] = RULES) -> list[str]:
    functions = function_folders(root)
    found: list[str] = []
    for path in python_files(root):
        module = module_name(root, path, functions)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for name, line in imported(tree, module, path.name == "__init__.py"):
            for rule in rules:
                if rule.importer(module) and rule.forbidden(name):
                    where = path.relative_to(root)
                    found.append(f"{where}:{line} imports {name}: {rule.why}")
    return sorted(set(found))


def import_cycles(root: Path, package: str) -> list[list[str]]:
    """Cycles among the modules of ``package``: imports at module level count, type-only ones
    too; an import inside a function (a child process's entry point loading the app) runs
    later and is left out."""
    functions = function_folders(root)
    graph: dict[str, set[str]] = {}
    for path in python_files(root / package):
        module = module_name(root, path, functions)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_package = path.name == "__init__.py"
        graph[module] = {n for n, _ in imported(tree, module, is_package, deferred=False)}
    for module in graph:
        graph[module] = {n for n in graph[module] if n in graph and n != module}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            # A package's own __init__ is reached from its modules by name only.
            if module.startswith(target + "."):
                continue
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return cycles


# ---- the project ---------------------------------------------------------------------


def test_the_project_keeps_its_layers() -> None:
    assert violations(PROJECT) == []


def test_the_host_has_no_import_cycle() -> None:
    assert import_cycles(PROJECT, "devhost") == []


LONG_MODULE = 420  # lines: "a few hundred at most", with some slack


def test_a_long_host_module_says_why() -> None:
    unexplained = []
    for path in python_files(PROJECT / "devhost"):
        text = path.read_text(encoding="utf-8")
        docstring = ast.get_docstring(ast.parse(text)) or ""
        if text.count("\n") > LONG_MODULE and "longer than most modules" not in docstring.lower():
            unexplained.append(f"{path.relative_to(PROJECT)}: {text.count(chr(10))} lines")
    assert unexplained == [], "split these or say why in the docstring ('Longer than most...')"


def test_the_rules_see_the_real_packages() -> None:
    # Guards against a rule that passes because it matches nothing.
    modules = {module_name(PROJECT, p, set()) for p in python_files(PROJECT / "devhost")}
    for package in ("devhost.core", "devhost.hub", "devhost.front", "devhost.functions"):
        assert any(under(package)(m) for m in modules), package
    assert function_folders(PROJECT), "no function folder found at the project root"


# ---- the checker, on synthetic trees -------------------------------------------------


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


CLEAN = {
    "devhost/__init__.py": "",
    "devhost/contracts.py": "import enum\n",
    "devhost/core/__init__.py": "",
    "devhost/core/walk.py": "from devhost.contracts import X\nfrom . import handles\n",
    "devhost/core/handles.py": "from devhost.core.actions import TaskKind\n",
    "devhost/core/actions.py": "import enum\n",
    "devhost/hub/__init__.py": "",
    "devhost/hub/store.py": "import sqlite3\nfrom devhost.core import walk\n",
    "devhost/hub/client.py": "from devhost.hub.store import Store\n",
    "devhost/front/__init__.py": "",
    "devhost/front/http.py": "import aiohttp\nfrom devhost.contracts import TaskHubProtocol\n",
    "Fn/function.json": "{}",
    "Fn/__init__.py": "from sitebackup import job\n",
    "bench/__init__.py": "import devhost.ready\n",
}


def test_a_clean_tree_passes(tmp_path: Path) -> None:
    root = write(tmp_path, CLEAN)
    assert violations(root) == []
    assert import_cycles(root, "devhost") == []


def test_each_kind_of_violation_is_reported(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            **CLEAN,
            "devhost/core/bad.py": "import sqlite3\nimport os.path\n"
            "from ..hub import store\n"
            "def f():\n    import asyncio\n",
            "devhost/front/bad.py": "from devhost.hub.store import Store\n",
            "devhost/runner.py": "import sitebackup.job\n",
            "Fn/__init__.py": "from devhost import runner\n",
            "sitebackup/job.py": "import devhost.contracts\n",
            "faults/loop.py": "from tests.support import host_process\n",
        },
    )
    found = violations(root)
    expected = {
        ("devhost/core/bad.py:1", "sqlite3"),
        ("devhost/core/bad.py:2", "os.path"),
        ("devhost/core/bad.py:3", "devhost.hub.store"),
        ("devhost/core/bad.py:5", "asyncio"),  # inside a function counts too
        ("devhost/front/bad.py:1", "devhost.hub.store"),
        ("devhost/runner.py:1", "sitebackup.job"),
        ("Fn/__init__.py:1", "devhost.runner"),
        ("sitebackup/job.py:1", "devhost.contracts"),
        ("faults/loop.py:1", "tests.support"),
    }
    for where, name in expected:
        assert any(v.startswith(f"{where} imports {name}:") for v in found), (where, found)
    assert not any("devhost/hub/" in v for v in found), found  # the hub may use sqlite3


def test_the_hub_client_api_is_allowed_to_the_front(tmp_path: Path) -> None:
    root = write(
        tmp_path, {**CLEAN, "devhost/front/ok.py": "from devhost.hub.client import TaskHub\n"}
    )
    assert violations(root) == []


def test_an_import_inside_a_function_makes_no_cycle(tmp_path: Path) -> None:
    deferred = {
        "devhost/core/actions.py": "import enum\ndef f():\n    from devhost.core import handles\n"
    }
    root = write(tmp_path, {**CLEAN, **deferred})
    assert import_cycles(root, "devhost") == []


def test_a_type_only_cycle_is_found(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            **CLEAN,
            "devhost/core/handles.py": "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from devhost.core.walk import Walk\n",
        },
    )
    assert import_cycles(root, "devhost") == [
        ["devhost.core.handles", "devhost.core.walk", "devhost.core.handles"]
    ]
