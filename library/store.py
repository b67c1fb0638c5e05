"""The library on disk: a pyoxigraph Store (RocksDB) in a folder of its own, guarded by a lock and a checksum.

    DIR/library.json   what the store must hold: the count and a checksum of its quads
    DIR/store/         the RocksDB store (only pyoxigraph writes here)
    DIR/lock           flock(2)-locked by the process using the library; holds its PID

Nothing is lost:
- an add is one `Store.extend` call, which pyoxigraph applies as one
  transaction (all quads or none);
- every command holds the lock for as long as it has the store open; a second
  process waits up to --wait seconds, then says which PID holds it;
- library.json records the state before a write (pending) and after it
  (committed), so that after a kill -9 at any moment the store is found at one
  of the two;
- the store is checked against library.json when it is opened, read-only
  first: RocksDB silently drops a damaged write-ahead log, and a store that
  does not hold what library.json says is reported as damaged and never
  opened for writing.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from hemkg.errors import LibraryDamaged, LibraryError, LibraryInUse
from hemkg.library.findings import Contribution, Problem
from hemkg.library.nanopub import Nanopub, nanopubs_in, publish, retract
from hemkg.library.place import ENVIRONMENT, default_location, location  # noqa: F401 (the library's place)
from hemkg.library.state import DAMAGED_HINT, STATE_FILE, Checksum, State, read_state, revision_of, write_state
from hemkg.library.vocabulary import EXPORT_PREFIXES

if TYPE_CHECKING:
    import pyoxigraph

STORE_FOLDER = "store"
LOCK_FILE = "lock"


# --------------------------------------------------------------------------- the lock


@contextlib.contextmanager
def locked(path: Path, wait: float, command: str) -> Iterator[None]:
    """Hold DIR/lock (flock) while the block runs; wait up to `wait` seconds for another process to let go."""
    lock_path = path / LOCK_FILE
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        writable = True
    except PermissionError:
        fd = os.open(lock_path, os.O_RDONLY)
        writable = False
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as err:
                if err.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
                if time.monotonic() >= deadline:
                    holder = lock_path.read_text(encoding="utf-8", errors="replace").strip() or "another process"
                    raise LibraryInUse(f"the library at {path} is in use by PID {holder}",
                                       "wait until it has finished and try again, or give --wait SECONDS") from None
                time.sleep(0.05)
        if writable:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} ({command})\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the flock


# --------------------------------------------------------------------------- the library


@dataclass(frozen=True)
class Entry:
    """A nanopublication of the library and what became of it."""

    nanopub: Nanopub
    status: str  # current, superseded, retracted, or retraction
    by: str | None = None  # the nanopublication that superseded or retracted it


@dataclass
class Plan:
    """What an add would write: new nanopublications, and per contribution what happens to it."""

    write: list[Nanopub] = field(default_factory=list)
    outcomes: list[tuple[str, str, str]] = field(default_factory=list)  # (doi, formula, added|replaced|unchanged)
    problems: list[Problem] = field(default_factory=list)


class Library:
    """An open library. Use `Library.open(...)` as a context manager; the store is closed on leaving it."""

    def __init__(self, path: Path, store: pyoxigraph.Store | None, state: State, writable: bool) -> None:
        self.path = path
        self._store = store
        self._state = state
        self._writable = writable
        self._nanopubs: list[Nanopub] | None = None

    @classmethod
    @contextlib.contextmanager
    def open(cls, path: Path, *, write: bool = False, wait: float = 10.0, command: str = "hem evidence"
             ) -> Iterator[Library]:
        """Open the library at `path`, checked against library.json; `write` creates it if it does not exist."""
        if path.exists() and not path.is_dir():
            raise LibraryError(f"the library location {path} is a file, not a folder",
                               "give a folder with --library DIR or HEMKG_LIBRARY")
        if not path.exists() or (path.is_dir() and not any(path.iterdir())):
            if not write:
                yield cls(path, None, State(), writable=False)
                return
            try:
                path.mkdir(parents=True, exist_ok=True)
                write_state(path, State())
            except OSError as err:
                raise LibraryError(f"cannot create the library at {path}: {err.strerror or err}",
                                   "give a folder you can write to with --library DIR or HEMKG_LIBRARY") from None
        elif not (path / STATE_FILE).exists():
            raise LibraryError(f"{path} is not a hemkg library (it has no {STATE_FILE}) and is not empty",
                               "give a new or empty folder with --library DIR or HEMKG_LIBRARY")
        with locked(path, wait, command):
            state = read_state(path)
            store = cls._checked_store(path, state, write)
            library = cls(path, store, state, writable=write)
            try:
                yield library
            finally:
                library._store = None
                library._nanopubs = None
                del store  # the last reference: pyoxigraph closes RocksDB before the lock is released

    @staticmethod
    def _checked_store(path: Path, state: State, write: bool) -> pyoxigraph.Store | None:
        import pyoxigraph as ox

        folder = path / STORE_FOLDER
        if folder.is_dir() and not any(folder.iterdir()) and not state.committed.quads:
            folder.rmdir()  # created, then killed before RocksDB wrote anything
        if not folder.exists():
            if state.committed.quads:
                raise LibraryDamaged(f"the library at {path} is damaged: its {STORE_FOLDER} folder is missing",
                                     DAMAGED_HINT)
            return ox.Store(str(folder)) if write else None
        try:
            reader = ox.Store.read_only(str(folder))
            found = Checksum.of(reader)
        except (OSError, RuntimeError, ValueError) as err:
            raise LibraryDamaged(f"the library at {path} is damaged: its store cannot be read "
                                 f"({str(err).splitlines()[0][:200]})", DAMAGED_HINT) from None
        if found != state.committed and found != state.pending:
            raise LibraryDamaged(f"the library at {path} is damaged: its store holds {found.quads} quads where "
                                 f"{STATE_FILE} records {state.committed.quads} (or their checksum differs)",
                                 DAMAGED_HINT)
        if not write:
            return reader
        del reader
        try:
            store = ox.Store(str(folder))
        except (OSError, RuntimeError) as err:
            if "lock" in str(err).lower():
                raise LibraryInUse(f"the library's store at {folder} is open in another process",
                                   "close the other program that uses it and try again") from None
            raise LibraryDamaged(f"the library at {path} is damaged: its store cannot be opened ({err})",
                                 DAMAGED_HINT) from None
        if state.pending is not None:  # a write was stopped (killed) before or after its commit: record which
            write_state(path, State(found))
            state.committed, state.pending = found, None
        return store

    @property
    def revision(self) -> str:
        """Changes with every write and only then (the checksum of library.json): a key for caches of its findings."""
        return revision_of(self._state.committed)

    # ---- reading

    def nanopubs(self) -> list[Nanopub]:
        if self._nanopubs is None:
            self._nanopubs = nanopubs_in(self._store)[0] if self._store is not None else []
        return self._nanopubs

    def entries(self) -> list[Entry]:
        """Every nanopublication with its status, oldest first."""
        superseded = {old: n.iri for n in self.nanopubs() for old in n.supersedes}
        retracted = {old: n.iri for n in self.nanopubs() for old in n.retracts}
        out = []
        for n in self.nanopubs():
            if n.contribution is None:
                out.append(Entry(n, "retraction"))
            elif n.iri in retracted:
                out.append(Entry(n, "retracted", retracted[n.iri]))
            elif n.iri in superseded:
                out.append(Entry(n, "superseded", superseded[n.iri]))
            else:
                out.append(Entry(n, "current"))
        return out

    def current(self) -> dict[str, Nanopub]:
        """The current version of each contribution, by contribution key."""
        return {e.nanopub.key: e.nanopub for e in self.entries() if e.status == "current" and e.nanopub.key}

    def find(self, doi: str, formula: str | None = None) -> list[Entry]:
        """Every version of the contributions with this DOI (and formula), oldest first."""
        return [e for e in self.entries() if e.nanopub.contribution is not None
                and e.nanopub.contribution.doi == doi
                and (formula is None or e.nanopub.contribution.formula == formula)]

    def quads(self) -> list[pyoxigraph.Quad]:
        """Every quad of the library: each nanopublication's graphs (current, superseded, retracted, retractions)."""
        return list(self._store.quads_for_pattern(None, None, None)) if self._store is not None else []

    def export(self, fmt: str) -> bytes:
        """Every nanopublication (current, superseded, retracted and the retractions) as TriG or JSON-LD."""
        import pyoxigraph as ox

        if self._store is None:
            return b""
        rdf_format = {"trig": ox.RdfFormat.TRIG, "jsonld": ox.RdfFormat.JSON_LD}[fmt]
        return self._store.dump(format=rdf_format, prefixes=EXPORT_PREFIXES if fmt == "trig" else None) or b""

    # ---- writing

    def plan_add(self, contributions: list[Contribution], replace: bool) -> Plan:
        """Which contributions are new, which supersede a current version (--replace), which are already here."""
        plan = Plan()
        current = self.current()
        for c in contributions:
            old = current.get(c.key)
            if old is None:
                plan.write.append(publish(c))
                plan.outcomes.append((c.doi, c.formula, "added"))
            elif old.contribution is not None and old.contribution.same_as(c):
                plan.outcomes.append((c.doi, c.formula, "unchanged"))
            elif replace:
                plan.write.append(publish(c, supersedes=[old.iri]))
                plan.outcomes.append((c.doi, c.formula, "replaced"))
            else:
                plan.problems.append(Problem(c.where, f"the library already holds other findings of {c.doi} on "
                                             f"{c.formula} (added {old.created[:10]}): pass --replace to supersede "
                                             f"them, or see them with hem evidence show {c.doi}"))
        return plan

    def plan_import(self, nanopubs: list[Nanopub]) -> Plan:
        """Nanopublications from a TriG file, as they are: new ones added, ones already here skipped."""
        import pyoxigraph as ox

        plan = Plan()
        store = self._store
        for n in nanopubs:
            head = ox.NamedNode(n.graph("Head"))
            if store is not None and store.contains_named_graph(head):
                if set(n.quads) != {q for g in {q.graph_name for q in n.quads}
                                    for q in store.quads_for_pattern(None, None, None, g)}:
                    plan.problems.append(Problem(f"nanopublication <{n.iri}>", "the library holds a nanopublication "
                                                 "with this IRI and other content: a nanopublication never changes; "
                                                 "add the changed findings as CSV or Turtle instead"))
                continue
            plan.write.append(n)
            c = n.contribution
            if c is not None:
                plan.outcomes.append((c.doi, c.formula, "added"))
            else:
                plan.outcomes.append(("", n.retracts[0] if n.retracts else "", "retraction"))
        known = {n.iri for n in self.nanopubs()} | {n.iri for n in nanopubs}
        for n in plan.write:
            for target in n.retracts:
                if target not in known:
                    plan.problems.append(Problem(f"nanopublication <{n.iri}>", f"retracts <{target}>, which is "
                                                 "neither in the library nor in the file: add that one first"))
        combined = Library(self.path, None, self._state, writable=False)
        combined._nanopubs = sorted([*self.nanopubs(), *plan.write], key=lambda x: (x.created, x.iri))
        counts: dict[str, list[str]] = {}
        for e in combined.entries():
            if e.status == "current" and e.nanopub.key:
                counts.setdefault(e.nanopub.key, []).append(e.nanopub.iri)
        for iris in counts.values():
            if len(iris) > 1:
                plan.problems.append(Problem(f"nanopublication <{iris[-1]}>", "would be a second current version of "
                                             f"a contribution the library holds as <{iris[0]}>: remove that one first "
                                             "(hem evidence remove DOI), or add the findings as CSV with --replace"))
        return plan

    def retract_all(self, entries: list[Entry], reason: str | None) -> list[Nanopub]:
        return [retract(e.nanopub.iri, reason) for e in entries]

    def write(self, nanopubs: list[Nanopub]) -> int:
        """Add these nanopublications in one transaction; return how many quads were new."""
        if not nanopubs:
            return 0
        if not self._writable or self._store is None:
            raise RuntimeError("the library was opened read-only")
        store = self._store
        import pyoxigraph as ox

        new = [q for q in dict.fromkeys(q for n in nanopubs for q in n.quads) if q not in store]
        as_stored = ox.Store()  # the quads as the store keeps them (it writes xsd:decimal '1310' as '1310.0')
        as_stored.extend(new)
        target = self._state.committed.plus(Checksum.of(as_stored))
        write_state(self.path, State(self._state.committed, target))
        store.extend(new)  # one transaction: every quad, or none
        store.flush()
        write_state(self.path, State(target))
        self._state = State(target)
        self._nanopubs = None
        return len(new)
