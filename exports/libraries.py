"""The pinned JavaScript libraries of exports/vendor/ (listed in vendor.json, see the README there).

The HTML page inlines them, each after its licence; the Cytoscape JSON export
names the cytoscape.js version it targets.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass

from hemkg.graph.store import package_files

FOLDER = "exports/vendor"


@dataclass(frozen=True)
class Vendored:
    name: str
    package: str
    version: str
    file: str
    sha256: str
    license: str
    source: str


@functools.cache
def vendored() -> dict[str, Vendored]:
    """The pinned libraries, by name ("cytoscape", "dagre")."""
    (manifest,) = package_files(FOLDER, "vendor.json")
    return {name: Vendored(name, **entry) for name, entry in json.loads(manifest.read_text(encoding="utf-8")).items()}


def vendor_file(name: str) -> str:
    (found,) = package_files(FOLDER, name)
    return found.read_text(encoding="utf-8")


def inline_scripts() -> str:
    """Each library in a <script> element after its licence; source-map comments dropped (nothing to fetch)."""
    parts = []
    for lib in vendored().values():
        code = re.sub(r"^//# sourceMappingURL=.*$", "", vendor_file(lib.file), flags=re.M)
        if "</script" in code.lower():  # pragma: no cover - the pinned files hold none; a new version might
            raise RuntimeError(f"{lib.file} contains '</script': this is a bug in hemkg (re-vendor it escaped)")
        licence = vendor_file(lib.license).replace("*/", "* /")
        parts.append(f"<script>/*! {lib.package} {lib.version}\n{licence}*/\n{code}</script>")
    return "\n".join(parts)
