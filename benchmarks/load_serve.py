"""Load test of `hem serve` on loopback: concurrent clients of valid queries, bounded in requests and time.

Starts `hem serve` on 127.0.0.1 (any free port), runs CLIENTS threads that each
send the README's queries and the `hem ask` questions (all valid) one after
another, a new connection per request, until REQUESTS have been sent or
SECONDS have passed, then stops the server. Prints throughput, p50/p99 latency,
the status-code mix, and the server's RSS (its own, without the query
children) before and after. Exits 1 if any valid query was answered 500.

    python benchmarks/load_serve.py                          # 20 clients, 600 requests, --max-concurrent 20
    python benchmarks/load_serve.py --max-concurrent 4       # the server's default: the rest are 503 at once
    python benchmarks/load_serve.py --clients 20 --requests 2000 --seconds 120
"""

from __future__ import annotations

import argparse
import collections
import http.client
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from importlib import resources

# The README's queries (hem sparql, curl to hem serve, hem sparql --endpoint)
README_QUERIES = [
    "SELECT ?e WHERE { ?e hem:memberOf hemkg:plane-C }",
    "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
    "SELECT ?rule WHERE { ?a prov:hadPlan/hem:ruleId ?rule }",
]


def queries() -> list[str]:
    """The README's queries and each `hem ask` question's SPARQL (its parameters left unbound)."""
    files = sorted(resources.files("hemkg").joinpath("kg/questions").iterdir(), key=lambda f: f.name)
    return README_QUERIES + [f.read_text(encoding="utf-8") for f in files if f.name.endswith(".rq")]


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def start_server(max_concurrent: int, timeout: float) -> tuple[subprocess.Popen, int]:
    command = [sys.executable, "-m", "hemkg", "serve", "--host", "127.0.0.1", "--port", "0",
               "--max-concurrent", str(max_concurrent), "--timeout", str(timeout)]
    server = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True)
    assert server.stderr is not None
    for line in server.stderr:
        if line.startswith("SPARQL endpoint at "):
            # drain the request log so that the server never blocks on a full pipe
            threading.Thread(target=lambda: collections.deque(server.stderr, maxlen=0), daemon=True).start()
            return server, urllib.parse.urlsplit(line.split()[3]).port or 0
    server.kill()
    raise SystemExit("hem serve did not start")


def client(port: int, texts: list[str], offset: int, budget: Budget, out: list[tuple[int, float]]) -> None:
    i = offset
    while budget.take():
        target = "/sparql?" + urllib.parse.urlencode({"query": texts[i % len(texts)]})
        i += 1
        start = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("GET", target, headers={"Accept": "application/sparql-results+json"})
            response = conn.getresponse()
            response.read()
            status = response.status
            conn.close()
        except OSError:
            status = 0  # the connection failed: refused, reset or timed out
        out.append((status, time.perf_counter() - start))


class Budget:
    """At most `requests` requests in all, and none after `seconds`."""

    def __init__(self, requests: int, seconds: float):
        self.left, self.deadline, self.lock = requests, time.monotonic() + seconds, threading.Lock()

    def take(self) -> bool:
        with self.lock:
            if self.left <= 0 or time.monotonic() > self.deadline:
                return False
            self.left -= 1
            return True


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=600, help="requests in all (default 600)")
    parser.add_argument("--seconds", type=float, default=120.0, help="stop sending after this long (default 120)")
    parser.add_argument("--max-concurrent", type=int, default=None,
                        help="hem serve --max-concurrent (default: as many as clients, at most 64)")
    parser.add_argument("--timeout", type=float, default=10.0, help="hem serve --timeout (default 10)")
    args = parser.parse_args()
    max_concurrent = args.max_concurrent or min(64, args.clients)

    texts = queries()
    server, port = start_server(max_concurrent, args.timeout)
    try:
        rss_before = rss_mib(server.pid)
        budget = Budget(args.requests, args.seconds)
        results: list[tuple[int, float]] = []
        threads = [threading.Thread(target=client, args=(port, texts, n, budget, results))
                   for n in range(args.clients)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - start
        rss_after = rss_mib(server.pid)
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()

    statuses = collections.Counter(status for status, _ in results)
    latencies = [seconds for _, seconds in results]
    answered = [seconds for status, seconds in results if status == 200]
    print(f"hem serve on 127.0.0.1: {args.clients} clients, --max-concurrent {max_concurrent}, "
          f"{len(texts)} distinct valid queries")
    print(f"requests        {len(results)} in {wall:.1f} s: {len(results) / wall:.1f}/s "
          f"({len(answered) / wall:.1f}/s answered 200)")
    print(f"latency, all    p50 {percentile(latencies, 50) * 1000:.0f} ms, p99 {percentile(latencies, 99) * 1000:.0f} ms")
    if answered:
        print(f"latency, 200    p50 {percentile(answered, 50) * 1000:.0f} ms, "
              f"p99 {percentile(answered, 99) * 1000:.0f} ms, mean {statistics.mean(answered) * 1000:.0f} ms")
    print("status codes    " + ", ".join(f"{code or 'no answer'}: {n}" for code, n in sorted(statuses.items())))
    print(f"server RSS      {rss_before:.0f} MiB before, {rss_after:.0f} MiB after")
    if statuses[500]:
        print(f"FAIL: {statuses[500]} valid queries were answered 500")
        sys.exit(1)


if __name__ == "__main__":
    main()
