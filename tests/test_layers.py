"""The package's layers (issue 9): a lower layer never imports a higher one.

errors < system < graph < library < engine < consultation < {answers, sparql, exports, screening}
< figures < api < cli < __main__. The four in braces are peers and do not import each other; the package root
(`hemkg/__init__.py`: the version) sits with errors.py below everything. Every import
counts: at module level, inside functions (the lazy imports that keep the CLI
fast) and under TYPE_CHECKING. One exception (issue 14): the root re-exports the public API
lazily, `from hemkg import api` inside its module __getattr__ (PEP 562) and under TYPE_CHECKING,
never at module level, so that `import hemkg` loads nothing of it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent
LAYERS = {"": 0, "errors": 0, "system": 1, "graph": 2, "library": 3, "engine": 4, "consultation": 5,
          "answers": 6, "sparql": 6, "exports": 6, "screening": 6, "figures": 7, "api": 8, "cli": 9, "__main__": 10}
NOT_CODE = {"tests", "benchmarks", "examples", "ontology", "kg", "rules", "build", "dist"}


def layer_of(module: str) -> str:
    """'hemkg.graph.store' -> 'graph'; 'hemkg' -> ''."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def package_modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the package below `root`."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if relative.parts[0] in NOT_CODE or any(p.startswith(".") for p in relative.parts):
            continue
        parts = ["hemkg", *relative.with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imported_modules(module: str, path: Path) -> list[tuple[int, str]]:
    """(line, hemkg module) of every import of the package in a file, relative ones resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "hemkg"]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base.split(".")[0] != "hemkg":
                continue
            # `from hemkg import engine` imports the sub-package hemkg.engine
            out += [(node.lineno, f"{base}.{a.name}" if base == "hemkg" and a.name in LAYERS and a.name else base)
                    for a in node.names]
    return out


def _root_lazy_api_imports(path: Path) -> set[int]:
    """Lines of the root's imports of hemkg.api that do not run on `import hemkg`: inside a function, or under
    `if TYPE_CHECKING:`."""
    lines = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        lazy = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or (
            isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
        if lazy:
            lines |= {n.lineno for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom))}
    return lines


def layer_violations(root: Path) -> list[str]:
    problems = []
    for module, path in package_modules(root).items():
        own = layer_of(module)
        lazy = _root_lazy_api_imports(path) if module == "hemkg" else set()
        if own not in LAYERS:
            problems.append(f"{path.relative_to(root)}: sub-package '{own}' has no place in the layers of tests/test_layers.py")
            continue
        for line, target in imported_modules(module, path):
            other = layer_of(target)
            if other == own or other not in LAYERS or (line in lazy and other == "api"):
                continue
            if LAYERS[other] > LAYERS[own] or (LAYERS[other] == LAYERS[own] and other != own):
                problems.append(f"{path.relative_to(root)}:{line}: {own or 'hemkg'} imports {target} "
                                f"({'a peer' if LAYERS[other] == LAYERS[own] else 'a higher layer'})")
    return problems


def test_no_import_runs_from_a_lower_layer_to_a_higher_one():
    assert layer_violations(PACKAGE) == []


def test_every_sub_package_has_a_layer():
    sub_packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")} - NOT_CODE
    assert sub_packages <= set(LAYERS), sorted(sub_packages - set(LAYERS))


@pytest.mark.parametrize(("where", "source", "wanted"), [
    ("graph/store.py", "def f():\n    from hemkg.consultation import consultation\n", "a higher layer"),
    ("answers/report.py", "from hemkg.sparql.query import run\n", "a peer"),
    ("engine/core.py", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from hemkg import cli\n", "a higher layer"),
    ("graph/store.py", "from ..screening import run\n", "a higher layer"),
])
def test_a_planted_violation_is_found(tmp_path, where, source, wanted):
    """The checker itself can fail: each planted import upward or sideways is reported with its line."""
    target = tmp_path / where
    target.parent.mkdir(parents=True)
    (target.parent / "__init__.py").write_text("")
    target.write_text(source)
    problems = layer_violations(tmp_path)
    assert len(problems) == 1 and wanted in problems[0] and problems[0].startswith(where), problems


@pytest.mark.parametrize(("source", "reported"), [
    ("def __getattr__(name):\n    from hemkg import api\n    return getattr(api, name)\n", False),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from hemkg.api import consult\n", False),
    ("from hemkg.api import consult\n", True),  # at module level: `import hemkg` would load the API
    ("def __getattr__(name):\n    from hemkg import cli\n", True),  # the exception is the API's alone
])
def test_the_root_may_import_the_api_lazily_only(tmp_path, source, reported):
    """Issue 14: hemkg/__init__.py re-exports hemkg.api inside __getattr__ (PEP 562), never at module level."""
    (tmp_path / "__init__.py").write_text(source)
    problems = layer_violations(tmp_path)
    assert bool(problems) == reported and all(p.startswith("__init__.py:") for p in problems), problems


def test_allowed_imports_are_not_reported(tmp_path):
    (tmp_path / "answers").mkdir()
    (tmp_path / "answers" / "__init__.py").write_text("")
    (tmp_path / "answers" / "x.py").write_text(
        "from hemkg import __version__, engine\nfrom hemkg.graph import store\nfrom . import y\n"
        "from hemkg.consultation.consultation import consult\n")
    assert layer_violations(tmp_path) == []


def test_test_modules_share_helpers_through_conftest_only():
    """Issue 9: shared test helpers live in tests/conftest.py; a test module never imports another."""
    found = []
    for path in sorted((PACKAGE / "tests").rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{path.name}:{node.lineno} imports {n}" for n in names if n.split(".")[-1].startswith("test_")]
    assert found == []
