"""Instructions a consultation costs (consult + JSON answer), counted by valgrind's callgrind, with and without a library.

Wall times on a shared machine drift by up to 2x within minutes; instruction counts do not. Each figure is the
count of a process that consults more candidates less that of one that consults fewer (the same start-up, library
read and warm-up), divided by the difference:

- the 7 candidates of benchmarks/bench.py, repeated (ROUNDS rounds): what the in-process rate measures;
- a stream of new five-cation candidates (after a warm-up of others): a process keeps what repeats, and a stream
  shows the work each new candidate costs.

The cycle collector is off while counting: whether a full collection falls in the counted rounds swung the counts
by up to 3 million a consultation. CPython's hash seed changes dict and set layouts, so each figure is the mean over
--seeds fixed PYTHONHASHSEED values. Without valgrind the script says so and stops.

    python benchmarks/instructions.py                 # builds the 1,000-finding library bench.py uses
    python benchmarks/instructions.py --library DIR   # an existing library folder
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROUNDS = (10, 30)  # over the 7 repeated candidates: the difference is 140 consultations
STREAM = (60, 200)  # new candidates, after WARM_UP others: the difference is 140
WARM_UP = 300

CHILD = r"""
import gc, sys
sys.path.insert(0, sys.argv[6])
from bench import new_stream
from hemkg.answers.summary import summarise
from hemkg.consultation import literature
from hemkg.consultation.consultation import consult
workload, library_path, n, warm_up, longest = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[5]), int(sys.argv[7])
library = literature.load(library_path) if library_path != "-" else None
repeated = [tuple(x.split("|")) for x in sys.argv[4].split(",")]
stream = new_stream(warm_up + longest, seed=1)  # the same draw in every process, however many it counts
warm, counted = (repeated, repeated * n) if workload == "repeated" else \
    (stream[:warm_up], stream[warm_up:warm_up + n])
for f, i in warm:
    summarise(consult(f, i, library=library))
gc.disable()
for f, i in counted:
    summarise(consult(f, i, library=library))
"""


def count(workload: str, library: str, n: int, seed: int) -> int:
    """The instructions of a process that consults n rounds of the repeated candidates (or n new ones)."""
    from bench import CANDIDATES

    env = {**os.environ, "PYTHONHASHSEED": str(seed)}
    args = [workload, library, str(n), ",".join(f"{f}|{i}" for f, i in CANDIDATES), str(WARM_UP), str(HERE),
            str(STREAM[1])]
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c",
                           CHILD, *args], env=env, capture_output=True, text=True)
    collected = [line for line in done.stderr.splitlines() if "Collected" in line]
    if done.returncode != 0 or not collected:
        raise SystemExit(f"the counted process failed:\n{done.stderr[-2000:]}")
    return int(collected[-1].split()[-1])


def per_consultation(workload: str, library: str, seed: int) -> float:
    """More consultations less fewer, each process with the same start-up and warm-up: what a process does once
    (reading, compiling, first look-ups, exit) cancels."""
    from bench import CANDIDATES

    fewer, more = ROUNDS if workload == "repeated" else STREAM
    consultations = (more - fewer) * (len(CANDIDATES) if workload == "repeated" else 1)
    return (count(workload, library, more, seed) - count(workload, library, fewer, seed)) / consultations


def build_library(folder: Path) -> str:
    """The 1,000 generated findings of bench.py (445 contributions, varied formulas), added with `hem evidence add`."""
    from bench import generated_rows

    with open(HERE.parent / "examples" / "findings.csv", newline="", encoding="utf-8") as f:
        base = list(csv.DictReader(f))
    path = folder / "1000-varied.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(base[0]))
        writer.writeheader()
        writer.writerows(generated_rows(base))
    library = folder / "library"
    subprocess.run([sys.executable, "-m", "hemkg", "evidence", "add", str(path), "--library", str(library)],
                   check=True, capture_output=True)
    return str(library)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", help="a library folder (default: the 1,000 generated findings, built anew)")
    parser.add_argument("--seeds", type=int, default=2, help="PYTHONHASHSEED values 1..N, each counted (default 2)")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed: this benchmark counts instructions with its callgrind tool")
    sys.path.insert(0, str(HERE))
    with tempfile.TemporaryDirectory() as tmp:
        library = args.library or build_library(Path(tmp))
        for path in ("-", library):  # warm the disk cache of each, so that no counted process builds it
            subprocess.run([sys.executable, "-c", CHILD, "repeated", path, "0", "(MgCoNiCuZn)O|Li", "0", str(HERE),
                            "0"], check=True)
        print("instructions a consultation + JSON answer (callgrind; cycle collector off; mean over "
              f"PYTHONHASHSEED 1-{args.seeds})")
        for workload in ("repeated", "stream"):
            what = "the 7 candidates, repeated" if workload == "repeated" else "a stream of new candidates"
            figures = {}
            for label, path in (("no library", "-"), ("with the library", library)):
                with ThreadPoolExecutor(2) as pool:
                    seeds = range(1, args.seeds + 1)
                    counts = list(pool.map(per_consultation, [workload] * len(seeds), [path] * len(seeds), seeds))
                figures[label] = statistics.mean(counts)
                spread = f" ({min(counts) / 1e6:.2f}-{max(counts) / 1e6:.2f})" if len(counts) > 1 else ""
                print(f"   {what:<28} {label:<17} {figures[label] / 1e6:6.2f} million{spread}")
            print(f"   {'':<28} {'ratio':<17} {figures['with the library'] / figures['no library']:6.2f} x")


if __name__ == "__main__":
    main()
