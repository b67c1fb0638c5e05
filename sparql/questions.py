"""Named questions: SPARQL files in kg/questions/ with a title, a description and parameters.

A file's header says what it answers and which parameters it takes:

    # title: Elements that enable a mechanism
    # description: ...
    # param: mechanism = conversion : a mechanism (any of the graph's, e.g. alloying)

A parameter's value is a term of the graph (resolved as `hem describe` does)
and is bound by SPARQL substitution (SEP-0007), never spliced into the text;
the query projects each parameter variable, as substitution requires.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hemkg.graph.store import package_files

QUESTION_FILES = ("kg/questions", "*.rq")
_PARAM = re.compile(r"^#\s*param:\s*(\w+)\s*=\s*(.+?)\s*:\s*(.+)$")


@dataclass(frozen=True)
class Parameter:
    name: str
    default: str
    description: str


@dataclass(frozen=True)
class Question:
    name: str
    title: str
    description: str
    query: str
    parameters: tuple[Parameter, ...] = field(default_factory=tuple)

    def bindings(self, values: dict[str, str]) -> dict[str, str]:
        """Parameter name -> the IRI its value (or default) names."""
        from hemkg.graph.statements import resolve

        unknown = set(values) - {p.name for p in self.parameters}
        if unknown:
            raise KeyError(f"'{self.name}' takes no parameter {', '.join(sorted(unknown))}")
        return {p.name: resolve(values.get(p.name, p.default)) for p in self.parameters}


def questions() -> dict[str, Question]:
    found = {}
    for f in package_files(*QUESTION_FILES):
        text = f.read_text(encoding="utf-8")
        header = {m.group(1): m.group(2).strip() for m in re.finditer(r"^#\s*(title|description):\s*(.+)$", text, re.M)}
        params = tuple(Parameter(*m.groups()) for line in text.splitlines() if (m := _PARAM.match(line)))
        name = f.name.removesuffix(".rq")
        found[name] = Question(name, header.get("title", name), header.get("description", ""), text, params)
    return found
