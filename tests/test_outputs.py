"""Files written with -o (system/outputs.py): only regular files are ever replaced, and runs that stop
leave no temporary behind and never replace a complete file with a partial one (issue 10, "Files written").

FIFOs and device nodes are made in a temporary folder, never taken from the real /dev.
"""

from __future__ import annotations

import errno
import fcntl
import functools
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import assert_one_line_error, run

from hemkg.exports import formats as exports
from hemkg.screening import run as sc
from hemkg.system import outputs

ZN = ["export", "--format", "nt", "--scope", "term:Zn"]
SMALL = ["-k", "2", "--include", "Ga", "--exclude", "Li,Al,Si,Ca,Ti,V,Cr,Mn,Co,Ni,Cu,Zn,Ge,Sr,Mo,Ru,Ag,In,Sn,Sb,La,Ce,W,Bi",
         "--anions", "O,none", "--ions", "Li", "--workers", "1"]  # Mg, Fe, Ga: 3 pairs x 2 anions = 6 rows


def zn_bytes(runner) -> bytes:
    result = run(runner, *ZN)
    assert result.exit_code == 0
    return result.stdout_bytes


def same_triples(a: bytes, b: bytes) -> bool:
    """The same N-Triples, but for the labels of blank nodes (new in each run)."""
    def shape(data: bytes) -> list[bytes]:
        return sorted(b" ".join(t if not t.startswith(b"_:") else b"_:" for t in line.split(b" ")) for line in data.splitlines())

    return shape(a) == shape(b)


def character_device(folder: Path) -> Path:
    """A node like /dev/null (major 1, minor 3), made in `folder`; skips where mknod is not permitted."""
    node = folder / "null.ttl"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, OSError) as err:
        pytest.skip(f"cannot make a character device here ({err.strerror}): mknod needs root (CAP_MKNOD)")
    return node


class FifoReader(threading.Thread):
    """Reads a FIFO to its end in the background, as a consumer process would."""

    def __init__(self, path: Path):
        super().__init__(daemon=True)
        self.path, self.data = path, b""

    def run(self) -> None:
        with open(self.path, "rb") as f:
            self.data = f.read()


def fifo(path: Path) -> FifoReader:
    os.mkfifo(path)
    reader = FifoReader(path)
    reader.start()
    return reader


# ------------------------------------------------------------------ hem export -o


def test_export_to_a_fifo_writes_into_it(runner, tmp_path):
    """A FIFO is written directly (before: a regular file was renamed over it and the reader got nothing)."""
    path = tmp_path / "graph.nt"
    reader = fifo(path)
    result = run(runner, *ZN, "-o", str(path))
    assert result.exit_code == 0, result.output
    reader.join(10)
    assert same_triples(reader.data, zn_bytes(runner))
    assert stat.S_ISFIFO(os.lstat(path).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.nt"]


def test_export_refuses_a_character_device(runner, tmp_path):
    """A device node (here one like /dev/null) is refused, and stays the device it was."""
    node = character_device(tmp_path)
    line = assert_one_line_error(run(runner, *ZN, "-o", str(node)))
    assert line == f"error: cannot write to '{node}': it is a character device, and only a regular file, a FIFO or '-' " \
                   "(standard output) is written"
    info = os.lstat(node)
    assert stat.S_ISCHR(info.st_mode) and info.st_rdev == os.makedev(1, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null.ttl"]


def test_export_to_a_link_to_standard_output_appends_to_it(tmp_path):
    """A path naming this process's standard output (as /dev/stdout does) is written to that stream:
    the link is kept, and a file the shell opened for appending keeps what it held."""
    link = tmp_path / "stdout"
    link.symlink_to("/proc/self/fd/1")
    captured = tmp_path / "captured.nt"
    captured.write_bytes(b"# earlier\n")
    with captured.open("ab") as out:
        subprocess.run([sys.executable, "-m", "hemkg", *ZN, "-o", str(link)], stdout=out, check=True)
    expected = subprocess.run([sys.executable, "-m", "hemkg", *ZN], capture_output=True, check=True).stdout
    written = captured.read_bytes()
    assert written.startswith(b"# earlier\n") and same_triples(written.removeprefix(b"# earlier\n"), expected)
    assert os.readlink(link) == "/proc/self/fd/1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["captured.nt", "stdout"]


def test_export_refuses_a_read_only_file(runner, tmp_path):
    """A file marked read-only is not replaced (root could rename over it, but the mark says not to)."""
    target = tmp_path / "graph.nt"
    target.write_text("kept\n", encoding="utf-8")
    target.chmod(0o444)
    line = assert_one_line_error(run(runner, *ZN, "-o", str(target)))
    assert line == f"error: cannot write to '{target}': the file is read-only"
    assert target.read_text(encoding="utf-8") == "kept\n"


def test_a_killed_writers_temporary_is_removed_by_the_next_write(runner, tmp_path):
    """SIGKILL leaves a temporary (it cannot be caught): the next write of the same file removes it,
    but never one a living writer holds (its lock)."""
    target = tmp_path / "graph.nt"
    stale = tmp_path / f".graph.nt.k1ll3d00{outputs.TEMP_SUFFIX}"
    stale.write_bytes(b"half an export")
    held = tmp_path / f".graph.nt.l1v1ng00{outputs.TEMP_SUFFIX}"
    held.write_bytes(b"being written")
    other = tmp_path / f".graph.nt.x.k1ll3d00{outputs.TEMP_SUFFIX}"  # graph.nt.x's, not graph.nt's
    other.write_bytes(b"another file's")
    with held.open("rb") as holder:
        fcntl.flock(holder.fileno(), fcntl.LOCK_EX)
        assert run(runner, *ZN, "-o", str(target)).exit_code == 0
    assert same_triples(target.read_bytes(), zn_bytes(runner))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([target.name, held.name, other.name])


def test_write_reports_a_full_disk_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "graph.nt"
    target.write_bytes(b"old")

    def full(stream):
        stream.write(b"some")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(exports.ExportError, match="No space left on device"):
        exports.write_atomic(target, full)
    assert target.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["graph.nt"]


# ------------------------------------------------------------------ hem screen -o: the target


def screen_rows(runner, tmp_path: Path, name: str = "expected.csv") -> bytes:
    path = tmp_path / name
    assert run(runner, "screen", *SMALL, "-o", str(path)).exit_code == 0
    data = path.read_bytes()
    path.unlink()
    return data


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_screen_to_a_fifo_writes_into_it(runner, tmp_path, suffix):
    """Rows stream into a FIFO (Parquet included: it is written without seeking)."""
    expected = screen_rows(runner, tmp_path, f"expected{suffix}")
    path = tmp_path / f"rows{suffix}"
    reader = fifo(path)
    result = run(runner, "screen", *SMALL, "-o", str(path))
    assert result.exit_code == 0, result.output
    reader.join(10)
    assert reader.data == expected and (suffix != ".csv" or expected.count(b"\n") == 7)  # header and 6 rows
    assert stat.S_ISFIFO(os.lstat(path).st_mode)


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if any candidate is evaluated: target checks come before the work."""
    def evaluate(*args, **kwargs):
        raise AssertionError("the screen started before the target was checked")

    monkeypatch.setattr(sc, "evaluate", evaluate)


def test_screen_refuses_a_character_device_before_the_work(runner, tmp_path, no_work):
    node = character_device(tmp_path).rename(tmp_path / "rows.csv")
    line = assert_one_line_error(run(runner, "screen", *SMALL, "-o", str(node)))
    assert "it is a character device" in line
    assert stat.S_ISCHR(os.lstat(node).st_mode) and sorted(p.name for p in tmp_path.iterdir()) == ["rows.csv"]


@pytest.mark.parametrize("target", ["-", "/dev/stdout"])
def test_screen_refuses_standard_output(runner, tmp_path, no_work, target, monkeypatch):
    """Its summary goes to standard output, so the rows cannot: said before the work, in one line."""
    monkeypatch.chdir(tmp_path)
    line = assert_one_line_error(run(runner, "screen", *SMALL, "-o", target))
    assert ("standard output" in line) if target == "-" else ("must end in .csv" in line)
    assert list(tmp_path.iterdir()) == []


def folder_target(tmp_path: Path) -> Path:
    (tmp_path / "rows.csv").mkdir()
    return tmp_path / "rows.csv"


def read_only_target(tmp_path: Path) -> Path:
    path = tmp_path / "rows.csv"
    path.write_text("earlier\n", encoding="utf-8")
    path.chmod(0o444)
    return path


@pytest.mark.parametrize("make, says", [
    (folder_target, "it is a folder"),
    (read_only_target, "the file is read-only"),
], ids=["folder", "read-only file"])
def test_screen_refuses_an_unwritable_target_before_the_work(runner, tmp_path, no_work, make, says):
    """A folder or read-only target is the user's mistake, said before any candidate is screened
    (before: the whole screen ran, then 'this is a bug in hemkg' and an 83 MB temporary)."""
    target = make(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    line = assert_one_line_error(run(runner, "screen", *SMALL, "-o", str(target)))
    assert line == f"error: cannot write to '{target}': {says}"
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_screen_refuses_a_read_only_folder_before_the_work(runner, tmp_path, no_work, monkeypatch):
    """(Simulated: the tests run as root, who may write anywhere.)"""
    real_access = os.access
    monkeypatch.setattr(outputs.os, "access", lambda path, mode: False if Path(path) == tmp_path else real_access(path, mode))
    line = assert_one_line_error(run(runner, "screen", *SMALL, "-o", str(tmp_path / "rows.csv")))
    assert line == f"error: cannot write to '{tmp_path / 'rows.csv'}': the folder '{tmp_path}' is not writable"
    assert list(tmp_path.iterdir()) == []


def test_screen_refuses_a_full_disk_before_the_work(runner, tmp_path, no_work, monkeypatch):
    real = os.statvfs(tmp_path)

    class Full:
        f_bavail, f_frsize = 0, real.f_frsize

    monkeypatch.setattr(outputs.os, "statvfs", lambda path: Full())
    line = assert_one_line_error(run(runner, "screen", *SMALL, "-o", str(tmp_path / "rows.csv")))
    assert line == f"error: cannot write to '{tmp_path / 'rows.csv'}': the disk holding '{tmp_path}' is full (0 bytes free)"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_screen_disk_full_while_writing_is_one_line_and_keeps_the_old_file(runner, tmp_path, monkeypatch, suffix):
    """ENOSPC half-way: one line naming it (not 'a bug in hemkg'), the earlier file whole, no temporary."""
    target = tmp_path / f"rows{suffix}"
    target.write_bytes(b"earlier results")
    real, calls = sc.Writer._write_columns, []

    def write(self, columns):
        calls.append(1)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(self, columns)

    monkeypatch.setattr(sc.Writer, "_write_columns", write)
    args = ["-k", "3", "--anions", "O", "--ions", "Li", "--workers", "1"]  # 2,600 rows: more than one batch
    monkeypatch.setattr(sc, "screen", functools.partial(sc.screen, batch_size=1000))
    line = assert_one_line_error(run(runner, "screen", *args, "-o", str(target)))
    assert line == f"error: cannot write to '{target}': No space left on device"
    assert target.read_bytes() == b"earlier results"
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_a_batch_cut_half_way_is_never_kept(tmp_path):
    """A write stopped inside a batch (a second Ctrl-C) leaves the file unfit to keep: nothing is kept."""
    writer = sc.Writer(tmp_path / "rows.csv")
    writer.damaged = True
    assert writer.close(partial=True) is None
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ hem screen -o: a real run, stopped

WHOLE = ["screen", "--no-progress", "--workers", "2"]  # the default space: 1,184,040 rows, several seconds


def start_screen(tmp_path: Path, target: Path) -> subprocess.Popen:
    """`hem screen -o target` in its own session; returns once its temporary holds some rows."""
    proc = subprocess.Popen([sys.executable, "-m", "hemkg", *WHOLE, "-o", str(target)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        temporaries = list(tmp_path.glob(f"*{outputs.TEMP_SUFFIX}"))
        if temporaries and temporaries[0].stat().st_size > 100_000:
            return proc
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("the screen wrote nothing in 60 s")


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def finish(proc: subprocess.Popen) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of its session
        except ProcessLookupError:
            pass
    return proc.returncode, out, err


@pytest.mark.parametrize("sig, code, group", [(signal.SIGTERM, 143, False), (signal.SIGINT, 130, False),
                                             (signal.SIGINT, 130, True)], ids=["SIGTERM", "SIGINT", "Ctrl-C"])
def test_a_signalled_screen_keeps_whole_rows_under_their_own_name(tmp_path, sig, code, group):
    """SIGTERM or Ctrl-C: the rows so far, whole, in rows.partial.csv; rows.csv from an earlier run untouched;
    no temporary left (before: a valid partial file replaced the earlier one, or a 163 MB temporary stayed).
    A terminal's Ctrl-C reaches the pool workers too: they leave the stopping to the parent, no traceback."""
    target = tmp_path / "rows.csv"
    target.write_text("earlier complete run\n", encoding="utf-8")
    proc = start_screen(tmp_path, target)
    if group:
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)
    returncode, out, err = finish(proc)
    assert returncode == code and err == "", err
    partial = tmp_path / "rows.partial.csv"
    first = out.splitlines()[0]
    assert first.startswith("stopped after ") and first.endswith(f"written to {partial} ({target} is as it was)"), out
    kept = int(first.split("; ")[1].split()[0].replace(",", ""))
    lines = partial.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("formula,ion,") and len(lines) == kept + 1 > 1
    assert all(line.count(",") == lines[0].count(",") for line in lines[-3:])  # whole rows to the end
    assert target.read_text(encoding="utf-8") == "earlier complete run\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows.csv", "rows.partial.csv"]


def test_a_dead_worker_ends_the_screen_in_one_line_and_leaves_nothing(tmp_path):
    target = tmp_path / "rows.csv"
    target.write_text("earlier complete run\n", encoding="utf-8")
    proc = start_screen(tmp_path, target)
    workers = children(proc.pid)
    assert workers, "no pool worker found"
    os.kill(workers[0], signal.SIGKILL)
    returncode, out, err = finish(proc)
    assert returncode == 2 and out == ""
    assert err.splitlines()[0] == "error: a worker process died before the screen was done (killed, or out of memory)"
    assert target.read_text(encoding="utf-8") == "earlier complete run\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows.csv"]


def test_a_killed_screens_temporary_is_removed_by_the_next_run(runner, tmp_path):
    """SIGKILL cannot be caught: its temporary stays, recognisable by name, until the next run writing there."""
    target = tmp_path / "rows.csv"
    proc = start_screen(tmp_path, target)
    os.killpg(proc.pid, signal.SIGKILL)
    finish(proc)
    (left,) = tmp_path.iterdir()
    assert left.name.startswith(".rows.csv.") and left.name.endswith(outputs.TEMP_SUFFIX)
    assert run(runner, "screen", *SMALL, "-o", str(target)).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows.csv"]


def test_readme_states_the_limits_as_the_code_has_them():
    """README's 'Files, inputs and limits' names each limit with the value the code uses."""
    from hemkg.consultation.batch import MAX_FILE_BYTES
    from hemkg.graph import checks
    from hemkg.graph import store as kgstore

    text = " ".join((Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8").split())
    section = text.split("## Files, inputs and limits", 1)[1].split(" ## ", 1)[0]
    for stated in (f"less than {outputs.MIN_FREE_BYTES // 1_000_000} MB free", outputs.TEMP_SUFFIX,
                   f"up to {MAX_FILE_BYTES // 1_000_000} MB", f"up to {kgstore.MAX_USER_FILE_BYTES // 1_000_000} MB",
                   f"more than {kgstore.ENTAILMENT_PASS_LIMIT} passes", f"after {checks.HERMIT_TIMEOUT:g} s",
                   f"{checks.HERMIT_MEMORY_MB:,} MB Java heap", f"more than {sys.get_int_max_str_digits():,} digits"):
        assert stated in section, stated
