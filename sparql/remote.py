"""Other SPARQL 1.1 stores: query one (Protocol) and upload the graph to one (Graph Store Protocol)."""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING

from hemkg.errors import QueryTimeout, RemoteError
from hemkg.sparql.query import DEFAULT_MAX_MEMORY, MEDIA_TYPES, PROLOGUE, check, in_child

if TYPE_CHECKING:
    import pyoxigraph

USER_AGENT = "hemkg (https://w3id.org/hemkg)"
WRITABLE_STORE = ("push to a store that accepts Graph Store Protocol uploads, e.g. the /store URL of "
                  "`oxigraph serve --location DIR` (http://127.0.0.1:7878/store), and query that store")


def _url(url: str) -> str:
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise RemoteError(f"'{url}' is not an http(s) URL", "e.g. http://127.0.0.1:7878/query")
    return url


def query_endpoint(url: str, query: str, fmt: str, timeout: float, max_memory: int = DEFAULT_MAX_MEMORY) -> bytes:
    """POST a checked query to a SPARQL endpoint and return its answer in `fmt` (a results or RDF format).

    `timeout` bounds the whole: the check (in a killable child) and the request.
    """
    start = time.monotonic()
    in_child(check, (query,), timeout, max_memory)
    remaining = timeout - (time.monotonic() - start)
    if remaining <= 0:
        raise QueryTimeout(f"checking the query took longer than {timeout:g} s", "give --timeout more seconds")
    request = urllib.request.Request(
        _url(url), data=(PROLOGUE + query).encode("utf-8"), method="POST",
        headers={"Content-Type": "application/sparql-query", "Accept": MEDIA_TYPES[fmt], "User-Agent": USER_AGENT},
    )
    return _send(request, remaining)


def push(url: str, graphs: dict[str, bytes], timeout: float) -> list[str]:
    """PUT each named graph (N-Triples) to a Graph Store Protocol endpoint; return the graph IRIs written."""
    written = []
    for graph, body in graphs.items():
        target = _url(url) + ("&" if "?" in url else "?") + urllib.parse.urlencode({"graph": graph})
        request = urllib.request.Request(target, data=body, method="PUT",
                                         headers={"Content-Type": "application/n-triples", "User-Agent": USER_AGENT})
        _send(request, timeout)
        written.append(graph)
    return written


def graphs_for_push(store: pyoxigraph.Store) -> dict[str, bytes]:
    """The asserted and entailed graphs as N-Triples, keyed by graph IRI."""
    import pyoxigraph as ox

    from hemkg.graph.store import ASSERTED_GRAPH, ENTAILED_GRAPH, serialized, triples

    return {g: serialized((q.triple for q in triples(store, g)), format=ox.RdfFormat.N_TRIPLES)
            for g in (ASSERTED_GRAPH, ENTAILED_GRAPH)}


def library_graphs_for_push(quads: list[pyoxigraph.Quad]) -> dict[str, bytes]:
    """The library's named graphs (each nanopublication's) as N-Triples, keyed by graph IRI."""
    import pyoxigraph as ox

    from hemkg.graph.store import serialized

    grouped: dict[str, list[pyoxigraph.Triple]] = {}
    for q in quads:
        if isinstance(q.graph_name, ox.NamedNode):
            grouped.setdefault(q.graph_name.value, []).append(q.triple)
    return {g: serialized(ts, format=ox.RdfFormat.N_TRIPLES) for g, ts in sorted(grouped.items())}


def _send(request: urllib.request.Request, timeout: float) -> bytes:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read()
    except urllib.error.HTTPError as err:
        if request.get_method() == "PUT" and err.code == 405:
            # hem serve (or any read-only endpoint) was given as the store to upload to
            what = "is hem serve, which is read-only" if (err.headers.get("Server") or "").startswith("hemkg/") \
                else "does not accept uploads (405 Method Not Allowed)"
            raise RemoteError(f"{request.full_url.split('?')[0]} {what}", WRITABLE_STORE) from None
        detail = err.read(300).decode("utf-8", "replace").strip().splitlines()
        raise RemoteError(f"{request.full_url} answered {err.code} {err.reason}"
                          + (f": {detail[0]}" if detail else "")) from None
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise RemoteError(f"cannot reach {request.full_url}: {reason}",
                          "is the store running, and is the URL right?") from None
