"""The library's state file, DIR/library.json: what its store must hold (the count and a checksum of its quads),
before a write (pending) and after it (committed); store.py keeps the store to it.

Kept apart from store.py, which imports the findings' and nanopublications' machinery: a consultation reads the
library's revision here (revision_at) before it reads anything else, and pyoxigraph is imported only to hash quads.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hemkg import __version__
from hemkg.errors import LibraryDamaged, LibraryError

if TYPE_CHECKING:
    import pyoxigraph

STATE_FILE = "library.json"
FORMAT = "hemkg-library/1"
DIGEST_BITS = 128


def revision_at(path: Path) -> str | None:
    """The revision of the library at `path` from its library.json alone (no store opened, pyoxigraph not
    imported), or None where there is no library or it holds nothing: a missing or empty folder, or no quad
    committed. A folder that is not a library, or a library.json that cannot be read, raises LibraryError."""
    if not path.exists():
        return None
    if not path.is_dir():
        raise LibraryError(f"the library location {path} is a file, not a folder",
                           "give a folder with --library DIR or HEMKG_LIBRARY, or --no-library")
    if not (path / STATE_FILE).exists():
        if not any(path.iterdir()):
            return None
        raise LibraryError(f"{path} is not a hemkg library (it has no {STATE_FILE}) and is not empty",
                           "give a library folder with --library DIR or HEMKG_LIBRARY, or --no-library")
    state = read_state(path)
    if not state.committed.quads and state.pending is None:
        return None
    return revision_of(state.committed) + (f"+{revision_of(state.pending)}" if state.pending else "")


def revision_of(checksum: Checksum) -> str:
    return f"{checksum.quads}-{checksum.digest:032x}"


# --------------------------------------------------------------------------- checksum and state


def _term_text(term: Any) -> str:
    import pyoxigraph as ox

    if isinstance(term, ox.NamedNode):
        return "I" + term.value
    if isinstance(term, ox.BlankNode):
        return "B" + term.value
    if isinstance(term, ox.Literal):
        return "L" + term.value + "\x1e" + (term.language or term.datatype.value)
    return "D"


def quad_digest(quad: pyoxigraph.Quad) -> int:
    text = "\x1f".join(_term_text(t) for t in (quad.subject, quad.predicate, quad.object, quad.graph_name))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[: DIGEST_BITS // 8], "big")


@dataclass(frozen=True)
class Checksum:
    """The count of quads and the sum of their hashes: independent of order, cheap to extend."""

    quads: int = 0
    digest: int = 0

    @classmethod
    def of(cls, quads: Iterable[pyoxigraph.Quad]) -> Checksum:
        count = total = 0
        for q in quads:
            count += 1
            total += quad_digest(q)
        return cls(count, total % (1 << DIGEST_BITS))

    def plus(self, other: Checksum) -> Checksum:
        return Checksum(self.quads + other.quads, (self.digest + other.digest) % (1 << DIGEST_BITS))

    def to_json(self) -> dict[str, Any]:
        return {"quads": self.quads, "digest": f"{self.digest:032x}"}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Checksum:
        return cls(int(data["quads"]), int(data["digest"], 16))


@dataclass
class State:
    committed: Checksum = field(default_factory=Checksum)
    pending: Checksum | None = None

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "written_by": f"hemkg {__version__}",
                           "committed": self.committed.to_json(),
                           "pending": self.pending.to_json() if self.pending else None}, indent=2) + "\n"


def read_state(path: Path) -> State:
    file = path / STATE_FILE
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise LibraryError(f"{file} is of format {data.get('format')!r}, not {FORMAT}",
                               "use the hemkg version that wrote it, or another --library")
        return State(Checksum.from_json(data["committed"]),
                     Checksum.from_json(data["pending"]) if data.get("pending") else None)
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise LibraryDamaged(f"the library at {path} is damaged: {STATE_FILE} cannot be read ({err})",
                             DAMAGED_HINT) from None


def write_state(path: Path, state: State) -> None:
    """Replace library.json atomically and durably (write, fsync, rename, fsync the folder)."""
    tmp = path / (STATE_FILE + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(state.to_json())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path / STATE_FILE)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


DAMAGED_HINT = ("it was left exactly as it is: restore the folder from a backup, or move it aside and add your "
                 "files (or a `hem evidence export`) to a new --library")
