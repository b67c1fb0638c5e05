"""Text that XML 1.0 can carry: shared by every XML writer (RDF/XML, SPARQL XML results, GraphML, GEXF).

XML 1.0 cannot carry most C0 control characters, not even escaped; they are
replaced by U+FFFD so that every XML answer stays well-formed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyoxigraph

# XML 1.0 allows tab, LF, CR and everything from U+0020 except surrogates, U+FFFE and U+FFFF.
XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
REPLACEMENT = "\ufffd"


def xml_safe(text: str) -> str:
    """`text` with the characters XML 1.0 forbids replaced by U+FFFD and line ends as LF."""
    return XML_FORBIDDEN.sub(REPLACEMENT, text.replace("\r\n", "\n").replace("\r", "\n"))


def xml_safe_triples(triples: Iterable[pyoxigraph.Triple]) -> list[pyoxigraph.Triple]:
    """The triples with every literal made XML-safe (see `xml_safe`): what rdfxml writes."""
    import pyoxigraph as ox

    out = []
    for t in triples:
        o = t.object
        if isinstance(o, ox.Literal) and xml_safe(o.value) != o.value:
            if o.language:
                o = ox.Literal(xml_safe(o.value), language=o.language)
            else:
                o = ox.Literal(xml_safe(o.value), datatype=o.datatype)
            t = ox.Triple(t.subject, t.predicate, o)
        out.append(t)
    return out
