"""Where a file named with `-o` goes, so that nothing but a regular file is ever replaced.

- A regular file, or a path that does not exist yet, is written to a temporary
  file beside it and renamed over it only once complete: until then an earlier
  file stays whole. A temporary is named `.NAME.XXXXXXXX.hemkg-tmp` and holds a
  lock (flock) for as long as its writer lives, so one left by a killed run
  (SIGKILL cannot be caught) is recognised and removed by the next run that
  writes NAME.
- '-', a FIFO, or this process's own standard output or error (/dev/stdout,
  /dev/fd/1) are written directly: there is nothing to replace.
- Anything else (a folder, a device such as /dev/null, a socket) is refused.

Each refusal is an `OutputError` with a hint, raised before any work is done.
Used by `hem export -o` (exports.formats) and `hem screen -o` (screening.run).
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from hemkg.errors import OutputError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no locks, so no cleaning of others' temporaries
    fcntl = None  # type: ignore[assignment]

TEMP_SUFFIX = ".hemkg-tmp"
MIN_FREE_BYTES = 1_000_000  # a folder with less free space than this is reported full before the work starts


@dataclass(frozen=True)
class Target:
    """Where an output goes: `path` (resolved through symbolic links), or a standard stream `fd`."""

    given: str  # as the user wrote it, for messages
    path: Path | None
    fd: int | None = None  # 1 or 2: this process's standard output or error
    fifo: bool = False

    @property
    def direct(self) -> bool:
        """Written in place, not through a temporary file and a rename."""
        return self.fd is not None or self.fifo


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def _same_as_std_stream(info: os.stat_result) -> int | None:
    for fd in (1, 2):
        try:
            if os.path.samestat(info, os.fstat(fd)):
                return fd
        except OSError:
            continue
    return None


def check(path: os.PathLike[str] | str) -> Target:
    """Classify `path` as a target and check it can be written, before any work; raise OutputError if not."""
    given = os.fspath(path)
    if given == "-":
        return Target(given, None, fd=1)
    cannot = f"cannot write to '{given}'"
    try:
        info = os.stat(given)
    except FileNotFoundError:
        if os.path.lexists(given):
            raise OutputError(f"{cannot}: it is a symbolic link to a missing file",
                              "remove the link, or give another name") from None
        real = Path(os.path.realpath(given))
        _check_folder(real.parent, cannot)
        return Target(given, real)
    except NotADirectoryError:
        raise OutputError(f"{cannot}: '{Path(given).parent}' is not a folder", "give a path inside a folder") from None
    except OSError as err:
        raise OutputError(f"{cannot}: {err.strerror or err}", "give another path") from None
    fd = _same_as_std_stream(info)
    if fd is not None:
        return Target(given, None, fd=fd)
    if stat.S_ISFIFO(info.st_mode):
        return Target(given, Path(given), fifo=True)
    if stat.S_ISDIR(info.st_mode):
        raise OutputError(f"{cannot}: it is a folder", "give a file name inside it")
    if not stat.S_ISREG(info.st_mode):
        raise OutputError(f"{cannot}: it is {_kind(info.st_mode)}, and only a regular file, a FIFO or '-' "
                          "(standard output) is written",
                          "to discard the output, leave out -o and redirect it: > /dev/null")
    real = Path(os.path.realpath(given))
    if not info.st_mode & 0o222 or not os.access(real, os.W_OK):
        raise OutputError(f"{cannot}: the file is read-only", "make it writable (chmod u+w) or give another name")
    _check_folder(real.parent, cannot)
    return Target(given, real)


def _check_folder(folder: Path, cannot: str) -> None:
    if not folder.exists():
        raise OutputError(f"{cannot}: there is no folder '{folder}'",
                          "create the folder first, or write somewhere else")
    if not folder.is_dir():
        raise OutputError(f"{cannot}: '{folder}' is not a folder", "give a path inside a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{cannot}: the folder '{folder}' is not writable",
                          "write somewhere you have permission to, or change the folder's permissions")
    try:
        fs = os.statvfs(folder)
    except (OSError, AttributeError):  # AttributeError: no statvfs on Windows
        return
    free = fs.f_bavail * fs.f_frsize
    if free < MIN_FREE_BYTES:
        raise OutputError(f"{cannot}: the disk holding '{folder}' is full ({free:,} bytes free)",
                          "free some space there, or write somewhere else")


def _lock(fd: int, block: bool) -> bool:
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


def _still_at(path: Path, fd: int) -> bool:
    try:
        return os.path.samestat(os.stat(path, follow_symlinks=False), os.fstat(fd))
    except OSError:
        return False


def remove_stale_temporaries(target: Path) -> list[Path]:
    """Remove the temporaries of `target` that no living writer holds (left by a killed run); return them."""
    if fcntl is None:
        return []
    removed = []
    prefix = f".{target.name}."
    for name in os.listdir(target.parent):
        middle = name[len(prefix):-len(TEMP_SUFFIX)]
        if not (name.startswith(prefix) and name.endswith(TEMP_SUFFIX) and len(middle) == 8 and "." not in middle):
            continue  # not a temporary of this target: mkstemp puts 8 characters between prefix and suffix
        tmp = target.parent / name
        try:
            fd = os.open(tmp, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            if _lock(fd, block=False) and _still_at(tmp, fd) and stat.S_ISREG(os.fstat(fd).st_mode):
                os.unlink(tmp)
                removed.append(tmp)
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


class Output:
    """One output being written: `path` is where to write now, the locked temporary or the FIFO itself.

    `commit()` moves a temporary into place (or to another name);
    `discard()` removes it. For standard output, `path` is None and `stream()`
    gives the stream.
    """

    def __init__(self, target: Target):
        self.target = target
        self._fd: int | None = None
        if target.direct:
            self.path = target.path
            return
        assert target.path is not None
        remove_stale_temporaries(target.path)
        cannot = f"cannot write to '{target.given}'"
        while True:
            try:
                fd, name = tempfile.mkstemp(dir=target.path.parent, prefix=f".{target.path.name}.", suffix=TEMP_SUFFIX)
            except OSError as err:
                raise OutputError(f"{cannot}: {err.strerror or err}",
                                  "write somewhere you have permission to") from None
            _lock(fd, block=True)
            if _still_at(Path(name), fd):  # else another run's cleaning took it before the lock: take a new one
                break
            os.close(fd)
        self._fd, self.path = fd, Path(name)

    def stream(self) -> IO[bytes]:
        """A binary stream on the output (not closing standard output when closed)."""
        if self.target.fd is not None:
            stream = (sys.stdout if self.target.fd == 1 else sys.stderr).buffer
            return _Unclosed(stream)  # type: ignore[return-value]  # duck-typed: it forwards every IO method
        assert self.path is not None  # not a standard stream: a path was checked
        return open(self.path, "wb")

    def commit(self, to: Path | None = None) -> None:
        """Move the temporary over the target, or to the path `to` (nothing to do for a direct output)."""
        if self._fd is None:
            return
        final = to or self.target.path
        assert final is not None and self.path is not None  # a temporary, for a file
        try:
            mode = final.stat().st_mode & 0o7777
        except OSError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        try:
            os.fsync(self._fd)
            os.chmod(self.path, mode)
            os.replace(self.path, final)
        except OSError as err:
            self.discard()
            raise OutputError(f"cannot write to '{final}': {err.strerror or err}",
                              "check the free space and permissions of the folder") from None
        os.close(self._fd)
        self._fd = None

    def discard(self) -> None:
        """Remove the temporary (nothing to do for a direct output)."""
        if self._fd is None:
            return
        assert self.path is not None  # a temporary, for a file
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        os.close(self._fd)
        self._fd = None


class _Unclosed:
    """A standard stream that `with` flushes but never closes."""

    def __init__(self, stream: IO[bytes]):
        self._stream = stream

    def __getattr__(self, name: str):
        return getattr(self._stream, name)

    def __enter__(self) -> _Unclosed:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stream.flush()

    def close(self) -> None:
        self._stream.flush()


def write(path: os.PathLike[str] | str | Target, produce: Callable[[IO[bytes]], object]) -> None:
    """Check `path`, call `produce` on a stream to it, and put the result in place (or nothing, if it fails).

    A failing disk (ENOSPC, EIO) is an OutputError; any other exception from
    `produce` is raised as it is. Either way an earlier file is left whole.
    """
    target = path if isinstance(path, Target) else check(path)
    output = Output(target)
    try:
        with output.stream() as stream:
            produce(stream)
            stream.flush()
    except OSError as err:
        output.discard()
        raise OutputError(f"cannot write to '{target.given}': {err.strerror or err}",
                          "check the free space and permissions of the folder") from None
    except BaseException:
        output.discard()
        raise
    output.commit()
