"""pyproject.toml installs every module and data file, and names each folder (issue 9).

A folder setuptools meets but is not told about is dropped from the wheel with
a "Package would be ignored" warning; a data file no package-data pattern
matches is silently missing after `pip install .`. Both are checked here
statically, against the files in the repository.
"""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_INSTALLED = {"tests", "benchmarks", "examples", "build", "dist"}


def _setuptools() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def installed_folders() -> set[str]:
    """Every folder below the package root that holds code or data, as a dotted package name."""
    found = {"hemkg"}
    for path in ROOT.rglob("*"):
        relative = path.relative_to(ROOT)
        if (path.is_file() and relative.parts[0] not in NOT_INSTALLED and len(relative.parts) > 1
                and not any(p.startswith(".") or p == "__pycache__" or p.endswith(".egg-info") for p in relative.parts)):
            found.add(".".join(["hemkg", *relative.parent.parts]))
    return found


def test_every_code_and_data_folder_is_a_listed_package():
    listed = set(_setuptools()["packages"])
    assert installed_folders() - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert listed - installed_folders() == set(), "these listed packages have no files"


def test_every_data_file_matches_a_package_data_pattern():
    patterns = _setuptools()["package-data"]["hemkg"]
    missing = []
    for path in ROOT.rglob("*"):
        relative = path.relative_to(ROOT)
        if (not path.is_file() or relative.parts[0] in NOT_INSTALLED or path.suffix in (".py", ".pyc")
                or (len(relative.parts) == 1 and path.name != "py.typed")
                or any(p.startswith(".") or p == "__pycache__" or p.endswith(".egg-info") for p in relative.parts)):
            continue
        if not any(fnmatch.fnmatch(relative.as_posix(), pattern) and pattern.count("/") == relative.as_posix().count("/")
                   for pattern in patterns):
            missing.append(relative.as_posix())
    assert missing == [], "no package-data pattern installs these"


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_setuptools_floor_reads_the_spdx_license():
    """`license = "MIT"` is a PEP 639 SPDX expression: setuptools 77.0.1 builds the wheel with it, 76.1.0 and
    70.3 stop on it (tried in a throwaway venv, `pip wheel --no-build-isolation .`; 77.0.0 is not on PyPI),
    so the build requirement's floor must be at least 77.0.1, and the LICENSE file it names must exist."""
    import re

    project = _project()
    assert project["project"]["license"] == "MIT"
    (requirement,) = [r for r in project["build-system"]["requires"] if r.startswith("setuptools")]
    floor = re.fullmatch(r"setuptools>=(\d+(?:\.\d+)*)", requirement)
    assert floor and tuple(map(int, floor[1].split("."))) >= (77, 0, 1), requirement
    assert project["project"]["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "Copyright (c) 2025-2026 the hemkg authors" in text


def test_metadata_declares_posix_and_owlready2_is_for_tests_only():
    """The fork-only code (sparql, ask, serve, multi-worker screen) makes hemkg POSIX-only; owlready2 (27 MB)
    serves only the HermiT test, so it is a test extra and nothing outside tests/ imports it."""
    import re

    project = _project()["project"]
    assert "Operating System :: POSIX" in project["classifiers"]
    assert not any(d.startswith("owlready2") for d in project["dependencies"])
    assert any(d.startswith("owlready2") for d in project["optional-dependencies"]["test"])
    importing = [p for p in ROOT.rglob("*.py") if p.relative_to(ROOT).parts[0] not in NOT_INSTALLED
                 and re.search(r"^\s*(import|from)\s+owlready2", p.read_text(encoding="utf-8"), re.M)]
    assert importing == []
    assert project["urls"] and project["keywords"] and project["authors"]
