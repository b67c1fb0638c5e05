"""Benchmark: consultation time per candidate, in process and as a cold command.

Prints figures only (no pass/fail); every figure stands next to its baseline
measured in the same run. Usage:

    python benchmarks/consult.py [--repeat 30] [--cold-runs 7]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

CANDIDATES = [  # the paper's own examples (Sections 2.3, 3.1)
    ("(MgCoNiCuZn)O", "Li"),
    ("(LiFeZnNiCoMn)3O4", "Li"),
    ("InGeSiP3", "Li"),
    ("GaCuZnInGeSiP6", "Li"),
    ("Cu0.88Sn0.02Sb0.02Bi0.02Mn0.02S0.9Se0.1", "Na"),
    ("Sb1.4Bi0.2Sn0.2Co0.1Mn0.1Te3", "K"),
    ("SiGeSnSbBi", "Li"),
]


def in_process(repeat: int) -> dict[str, float]:
    from hemkg.consult import consult
    from hemkg.explain import explain

    consult(*CANDIDATES[0])  # load the graph and the rules once, as a long-running process would
    timings: dict[str, list[float]] = {"rules + derivations": [], "rules + JSON answer": [], "rules + explanation tree": []}
    for _ in range(repeat):
        for formula, ion in CANDIDATES:
            t = time.perf_counter()
            c = consult(formula, ion)
            timings["rules + derivations"].append(time.perf_counter() - t)
            t = time.perf_counter()
            c.to_dict()
            timings["rules + JSON answer"].append(timings["rules + derivations"][-1] + time.perf_counter() - t)
            t = time.perf_counter()
            explain(c, "all")
            timings["rules + explanation tree"].append(timings["rules + derivations"][-1] + time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in timings.items()}


def cold(runs: int) -> dict[str, float]:
    hem = shutil.which("hem") or str(Path(sys.executable).with_name("hem"))
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        'python -c "import rdflib"': [sys.executable, "-c", "import rdflib"],
        "hem --help": [hem, "--help"],
        "hem consult '(MgCoNiCuZn)O' --json": [hem, "consult", "(MgCoNiCuZn)O", "--json"],
        "hem describe Zn --json": [hem, "describe", "Zn", "--json"],
    }
    figures = {}
    for name, cmd in commands.items():
        subprocess.run(cmd, capture_output=True, check=True)  # warm the file cache
        samples = []
        for _ in range(runs):
            t = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=True)
            samples.append(time.perf_counter() - t)
        figures[name] = statistics.median(samples)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="passes over the candidates in process")
    parser.add_argument("--cold-runs", type=int, default=7, help="runs of each command")
    args = parser.parse_args()

    print(f"In process, median per candidate over {args.repeat} x {len(CANDIDATES)} consultations:")
    for name, seconds in in_process(args.repeat).items():
        print(f"  {name:<28} {seconds * 1000:8.2f} ms   ({1 / seconds:7.0f} candidates/s)")
    print(f"\nCold commands, median wall time of {args.cold_runs} runs:")
    figures = cold(args.cold_runs)
    baseline = figures['python -c "import rdflib"']
    for name, seconds in figures.items():
        print(f"  {name:<40} {seconds * 1000:8.1f} ms   ({seconds / baseline:4.2f} x import rdflib)")


if __name__ == "__main__":
    main()
