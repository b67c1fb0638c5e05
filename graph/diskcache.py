"""A cache on disk for what every process derives from the packaged data in the same way.

Reading the graph and turning it into rule facts takes ~100 ms; a pickle of the
result loads in a few. Entries are keyed by the package and Python versions and
a hash of every data file (ontology/, kg/, rules/) and of every module of the
package and its sub-packages, so an edited file, a changed class, a new release
or another Python never meets a stale entry (the hash is remembered under a
stamp of the files' sizes and times, so a start need not read them all). The
cache lives in $HEMKG_CACHE_DIR, else
$XDG_CACHE_HOME/hemkg, else ~/.cache/hemkg; where it cannot be written, values
are simply computed. HEMKG_CACHE_DIR=off turns it off.

Unpickling runs code, so an entry is used only if this installation wrote it:
each carries an HMAC-SHA256 of its name and bytes under a key of 32 random
bytes kept in the cache folder (`key`, mode 0600, made atomically on first
use), checked before the pickle is loaded. A cache folder (or key) that is not
ours or that group or others may write is not used at all. A loaded value must
also have the type its function returns (its return annotation, checked on
the container and its items); anything else is recomputed and rewritten.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import stat
import sys
import time
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from hemkg.system import collector

T = TypeVar("T")
DATA_FOLDERS = ("ontology", "kg", "rules")  # every file below these is knowledge the cache derives from
UNHASHED_FOLDERS = frozenset({"tests", "benchmarks", "examples", "__pycache__"})  # not part of the installed code


@functools.cache
def _folder() -> Path | None:
    from hemkg import __version__
    from hemkg.graph.store import package_root

    setting = os.environ.get("HEMKG_CACHE_DIR", "")
    if setting.lower() == "off":
        return None
    root = Path(setting) if setting else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hemkg"
    files = list(_keyed_files(package_root()))
    versions = f"{__version__} {sys.version}"  # pickles hold marshalled code (engine)
    stamp, newest = _stamp(versions, files)
    known = _known_key(root, stamp)
    if known:
        return root / known
    digest = hashlib.sha256(versions.encode())
    for name, entry in files:
        digest.update(name.encode())
        digest.update(Path(entry.path).read_bytes())
    key = digest.hexdigest()[:KEY_LENGTH]
    if time.time_ns() - newest > RACY_NS:
        _remember_key(root, stamp, key)
    return root / key


def _keyed_files(base: Path) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """(path inside the package, directory entry) of every file the key covers, in a fixed order:
    each .py file of the package and its sub-packages, and every file of the data folders."""
    pending: list[tuple[str, str, bool]] = [("", str(base), False)]
    while pending:
        prefix, folder, is_data = pending.pop()
        with os.scandir(folder) as entries:
            listed = sorted(entries, key=lambda x: x.name, reverse=True)
        for entry in listed:
            path = f"{prefix}{entry.name}"
            if entry.is_dir():
                if entry.name not in UNHASHED_FOLDERS and not entry.name.startswith("."):
                    pending.append((path + "/", entry.path, is_data or (not prefix and entry.name in DATA_FOLDERS)))
            elif is_data or entry.name.endswith(".py"):
                yield path, entry


# Hashing every file's bytes costs a cold start ~5 ms; their names, sizes and modification times,
# ~1 ms. The content key is kept under a stamp of those (as git's index and make do), so the
# bytes are hashed again only when a file's size or time changes. As in git, a stamp is not kept
# while a file is younger than the file system's clock can tell apart (an edit of the same size in
# the same tick would keep its time): such a tree is hashed on every start.
KEY_LENGTH = 20
STAMPS = "stamps"
RACY_NS = 2_000_000_000


def _stamp(versions: str, files: list[tuple[str, os.DirEntry[str]]]) -> tuple[str, int]:
    """A digest of the files' names, sizes and modification times, and the newest of those times."""
    digest = hashlib.sha256(versions.encode())
    newest = 0
    for name, entry in files:
        info = entry.stat()
        digest.update(f"{name}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
        newest = max(newest, info.st_mtime_ns)
    return digest.hexdigest()[:32], newest


def _known_key(root: Path, stamp: str) -> str | None:
    """The content key remembered for this stamp, if the cache root is ours alone and holds one."""
    try:
        key = (root / STAMPS / stamp).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return None
    valid = len(key) == KEY_LENGTH and all(c in "0123456789abcdef" for c in key)
    return key if valid and _trusted(root) and _trusted(root / STAMPS) else None


def _remember_key(root: Path, stamp: str, key: str) -> None:
    """Keep `key` under `stamp` (where this fails, the files are hashed again next time)."""
    path = root / STAMPS / stamp
    if _writable(path):
        _replace(path, key.encode("ascii"))


MAGIC = b"hemkg-cache 1\n"
KEY_FILE = "key"
KEY_BYTES = 32
_MISSING = object()
REGISTERED: list[Callable[[], object]] = []  # every disk-cached function (the tests resolve each one's type)


def disk_cached(function: Callable[[], T]) -> Callable[[], T]:
    """Cache a no-argument function's result on disk as well as in memory.

    The function's return annotation is the type a loaded value must have.
    `.__wrapped__` is the original function (computes afresh, touches no cache).
    """

    def wrapper() -> T:
        folder = _folder()
        path = folder / f"{function.__module__}.{function.__name__}.pickle" if folder else None
        if path is not None:
            value = _read(path, function)
            if value is not _MISSING:
                return value  # type: ignore[return-value]
        value = function()
        if path is not None:
            _write(path, value)
        return value

    cached = functools.cache(wrapper)
    cached.__wrapped__ = function
    functools.update_wrapper(cached, function, updated=())
    REGISTERED.append(function)
    return cached


def keyed(function: Callable[..., T], key: str, *args: object) -> T:
    """`function(*args)`, cached on disk under `key` (what the value is a function of beyond the package: a
    literature library's folder and revision, say), signed and type-checked as disk_cached entries are. Writing an
    entry removes the function's entries under other keys: one is kept per function."""
    folder = _folder()
    if folder is None:
        return function(*args)
    stem = f"{function.__module__}.{function.__name__}"
    path = folder / f"{stem}.{hashlib.sha256(key.encode()).hexdigest()[:KEY_LENGTH]}.pickle"
    value = _read(path, function)
    if value is not _MISSING:
        return value  # type: ignore[return-value]
    value = function(*args)
    for old in folder.glob(f"{stem}.*.pickle") if folder.is_dir() else ():
        if old != path:
            with contextlib.suppress(OSError):
                old.unlink()
    _write(path, value)
    return value


@functools.cache
def expected_type(function: Callable[[], object]) -> object:
    """The return annotation of `function`, resolved (a disk-cached function must have one).

    The annotation is a string (modules use `from __future__ import annotations`),
    evaluated in the function's module as typing.get_type_hints would, for a
    fraction of its cost on a cold start.
    """
    annotation = function.__annotations__.get("return")
    if annotation is None:
        raise TypeError(f"{function.__qualname__} needs a return annotation to be disk-cached")
    return eval(annotation, function.__globals__) if isinstance(annotation, str) else annotation


@functools.cache
def checker(function: Callable[[], object]) -> Callable[[object], bool]:
    """A test of whether a value has the type `function` returns: the container and its items' types."""
    hint = expected_type(function)
    outer, args = _classes(hint), typing.get_args(hint)
    origin = typing.get_origin(hint)
    if origin is dict and len(args) == 2:
        keys, values = _classes(args[0]), _classes(args[1])
        return lambda v: isinstance(v, dict) and all(isinstance(k, keys) for k in v) and all(
            isinstance(x, values) for x in v.values())
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        items = _classes(args[0])
        return lambda v: isinstance(v, tuple) and all(isinstance(x, items) for x in v)
    if origin is tuple and args:
        each = [_classes(a) for a in args]
        return lambda v: isinstance(v, tuple) and len(v) == len(each) and all(
            isinstance(x, c) for x, c in zip(v, each, strict=True))
    if origin in (list, set, frozenset) and len(args) == 1:
        items = _classes(args[0])
        return lambda v: isinstance(v, origin) and all(isinstance(x, items) for x in v)  # origin: list, set...
    return lambda v: isinstance(v, outer)


def _classes(hint: object) -> type | tuple[type, ...]:
    """What isinstance takes for `hint`'s outer type: dict for dict[str, int], (str, float) for str | float."""
    import types

    if hint is typing.Any:
        return object
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        parts = [_classes(a) for a in typing.get_args(hint)]
        return tuple(c for p in parts for c in (p if isinstance(p, tuple) else (p,)))
    if origin is not None:
        return origin
    return hint if isinstance(hint, type) else object


def _trusted(folder: Path) -> bool:
    """A folder that is ours and that neither group nor others may write."""
    try:
        info = os.stat(folder)
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode) or info.st_mode & 0o022:
        return False
    return not hasattr(os, "geteuid") or info.st_uid == os.geteuid()


def _key(root: Path, create: bool = False) -> bytes | None:
    """This installation's key, kept in `root`; None when there is none (or it is not ours alone)."""
    path = root / KEY_FILE
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return _new_key(root) if create else None
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if (not stat.S_ISREG(info.st_mode) or info.st_mode & 0o077 or info.st_size != KEY_BYTES
                or (hasattr(os, "geteuid") and info.st_uid != os.geteuid())):
            return None
        key = os.read(fd, KEY_BYTES + 1)
    finally:
        os.close(fd)
    return key if len(key) == KEY_BYTES else None


def _new_key(root: Path) -> bytes | None:
    """Make the key: written whole to a private temporary, then linked into place (never replacing another's)."""
    tmp = root / f".{KEY_FILE}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, os.urandom(KEY_BYTES))
            os.fsync(fd)
        finally:
            os.close(fd)
        with contextlib.suppress(FileExistsError):  # another process made it first: use that one
            os.link(tmp, root / KEY_FILE)
    except OSError:
        return None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return _key(root)


def _mac(key: bytes, path: Path, payload: bytes) -> bytes:
    import hmac

    signed = hmac.new(key, f"{path.parent.name}/{path.name}".encode() + b"\0", "sha256")
    signed.update(payload)
    return signed.digest()


_READ_KEYS: dict[Path, bytes] = {}  # cache root -> its key, once checked: a start reads ~10 entries


def _reading_key(root: Path, folder: Path) -> bytes | None:
    """The key entries in `folder` are checked with, if the cache root and the folder are ours alone."""
    if root not in _READ_KEYS:
        key = _key(root) if _trusted(folder) and _trusted(root) else None
        if key is None:
            return None
        _READ_KEYS[root] = key
    return _READ_KEYS[root]


def _read(path: Path, function: Callable[[], object]) -> object:
    """The value of `function`'s entry at `path`, or _MISSING unless this installation signed it and it
    has the type `function` returns."""
    key = _reading_key(path.parent.parent, path.parent)
    if key is None:
        return _MISSING
    try:
        data = path.read_bytes()
    except OSError:
        return _MISSING
    import hmac

    mac, payload = data[len(MAGIC) : len(MAGIC) + 32], data[len(MAGIC) + 32 :]
    if not data.startswith(MAGIC) or not hmac.compare_digest(mac, _mac(key, path, payload)):
        return _MISSING  # not written here (or damaged): never unpickled
    try:
        with _collector_paused():
            value = pickle.loads(payload)
    except Exception:  # a damaged entry, whatever pickle raises: recomputed and rewritten
        return _MISSING
    return value if checker(function)(value) else _MISSING


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while an entry is unpickled (system/collector.py): the tens of thousands of
    objects of a library's index would set it off again and again, scanning what was just read (a cold
    `hem consult` with 1,000 findings reads its entry in about 15 ms instead of 25); nothing read is garbage, so it
    misses nothing. Where hemkg owns the process (collector.OWN_PROCESS), what was read is frozen before the collector
    is on again: read entries live as long as the process, and without the freeze the first collection after a read
    scans every object just read (~3 ms for a library's index of 1,000 findings), and every full one after that
    again."""
    with collector.pause():
        try:
            yield
        finally:
            collector.settle()


def _write(path: Path, value: object) -> None:
    if not _writable(path):
        return
    key = _key(path.parent.parent, create=True)
    if key is not None:
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        _replace(path, MAGIC + _mac(key, path, payload) + payload)


def _writable(path: Path) -> bool:
    """Whether `path`'s folder (in the cache root) exists or was made, and only we may write it and the root."""
    folder, root = path.parent, path.parent.parent
    try:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.mkdir(mode=0o700, exist_ok=True)
    except OSError:
        return False  # read-only home: work without the cache
    return _trusted(root) and _trusted(folder)  # a folder others may write: keep nothing there


def _replace(path: Path, data: bytes) -> None:
    """Write `path` whole, through a temporary file beside it and a rename (nothing where that fails)."""
    import tempfile  # only when writing: most starts only read

    try:
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as tmp:
            tmp.write(data)
        os.replace(tmp.name, path)
    except OSError:
        pass  # full disk: work without the cache
