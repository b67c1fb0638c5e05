"""The literature library against the paper: `hem evidence conflicts` and `hem evaluate` (issue 13).

Both are derived from consultations, not from a second logic:

- A finding's verdict (agrees / disagrees, and the paper's rules it bears on)
  is the one "What your library says" gives (consultation/literature.py said())
  when the finding's own material is consulted with its carrier ion and the
  library: the paper's evidence rules grade it there (reported_here,
  contradicted_here) as they grade the paper's own reports.
- `conflicts` lists the disagreeing findings with the rules and statements
  they contradict, the mechanisms a contribution leaves unnamed although the
  planes make them accessible (silence, not a contradiction), and the pairs of
  findings whose facts are opposite: the same element (or material) seen and
  not seen in the same mechanism with the same ion.
- `evaluate` consults each finding's material WITHOUT the library and compares
  the paper's prediction (status of the mechanism, the element's roles) with
  the finding: agree, disagree, or not predicted (undetermined, or a claim the
  paper's rules make no prediction about).
"""

from __future__ import annotations

import functools
import textwrap
from typing import Any

from hemkg.answers.report import cite
from hemkg.answers.summary import summarise
from hemkg.consultation import literature
from hemkg.consultation.consultation import Consultation, consult
from hemkg.consultation.evidence import NO_SOURCE, strongest
from hemkg.consultation.literature import LibraryFinding, LibraryFindings
from hemkg.consultation.rules import rule_by_id
from hemkg.engine import Fact
from hemkg.graph import statements as knowledge
from hemkg.graph.store import HEMKG
from hemkg.graph.vocab import json_key, spoken_list, vocab

AGREE, DISAGREE, NOT_PREDICTED = "agree", "disagree", "not_predicted"
COMPARED_KINDS = ("mechanism_observed", "mechanism_not_observed", "element_role")  # the CSV words evaluate reads
STRUCTURAL = literature.STRUCTURAL_WORDS
STABILIZER = "stabilizer"  # the rules' role of an inactive stabilizer: role(?c, stabilizer)


def paper_citation() -> str:
    """'Energy Environ. Sci. 2025, 18, 10286', read from the graph (kg/paper.ttl)."""
    return knowledge.paper()["short"]


def cite_paper(references: list[int]) -> str:
    """'Energy Environ. Sci. 2025, 18, 10286, ref 40, 42' (the paper itself where the rule cites no reference)."""
    if not references:
        return paper_citation()
    word = "ref" if len(references) == 1 else "refs"
    return f"{paper_citation()}, {word} {cite(references)[1:-1]}"


def rule_record(rule_id: str) -> dict[str, Any]:
    """A rule as the paper statement it applies: its text, the statements it rests on, references and location."""
    rule = rule_by_id()[rule_id]
    return {"rule": rule.id, "statement": rule.statement, "rests_on": list(rule.rests_on),
            "references": list(rule.references), "location": rule.location,
            "citation": cite_paper(list(rule.references))}


def finding_record(f: LibraryFinding) -> dict[str, Any]:
    """A finding as conflicts and evaluate list it, with its citation."""
    record: dict[str, Any] = {"id": f.id, "doi": f.doi, "formula": f.formula, "ion": f.ion, "finding": f.kind}
    for key in ("mechanism", "element", "role"):
        value = getattr(f, key)
        if value:
            record[key] = json_key(value) if key == "mechanism" else value
    record.update({"evidence_level": f.evidence_level, "quote": f.quote, "citation": f"doi:{f.doi}",
                   "statement": f.statement})
    return record


def anode_findings(library: LibraryFindings) -> list[LibraryFinding]:
    """The findings whose material a consultation can read: anode ones of a contribution with a composition."""
    return [f for f in sorted(library.findings.values(), key=lambda f: (f.doi, f.formula, _number(f)))
            if f.anode and f.ion and f.material in library.compositions]


def _number(f: LibraryFinding) -> int:
    return int(f.id.rsplit("#", 1)[1])


# --------------------------------------------------------------------------- verdicts on the finding's own material


_VERDICTS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}


def verdicts(library: LibraryFindings) -> dict[str, dict[str, Any]]:
    """Finding id -> the said() entry of its own material's consultation with the library (once per revision)."""
    key = (str(library.path), library.revision)
    if key not in _VERDICTS:
        out: dict[str, dict[str, Any]] = {}
        for (formula, ion), group in _by_material(anode_findings(library)).items():
            c = consult(formula, ion, None, library)
            wanted = {(f.doi, f.statement, f.quote): f for f in group}
            entries = literature.said(c, frozenset(f.material for f in group), all_findings=True)
            grading = _grading_rules(c, {r for e in entries for r in e["rules"]})
            for entry in entries:
                f = wanted.get((entry["doi"], entry["statement"], entry["quote"]))
                if f is not None and f.id not in out:
                    out[f.id] = {**entry, "paper_rules": [r for r in entry["rules"] if r not in grading],
                                 "graded": _graded(c, entry)}
        _VERDICTS[key] = out
    return _VERDICTS[key]


def _graded(c: Consultation, entry: dict[str, Any]) -> dict[str, Any]:
    """The evidence levels the consultation with the library gives where a finding bears (rules/85-evidence.toml:
    reported_here, contradicted_here, conflicting ...): each mechanism it concerns, and the element's roles."""
    r = c.result
    mechanisms = entry.get("plane_mechanisms") or [entry["mechanism"]]
    graded: dict[str, Any] = {"mechanisms": {json_key(m): strongest([lv for _, lv in r.words("evidence", m)])
                                             for m in mechanisms}}
    if "element" in entry:
        roles: dict[str, list[str]] = {}
        for _, role, level in r.words("role_evidence", entry["element"]):
            roles.setdefault(json_key(role), []).append(level)
        graded["roles"] = {role: strongest(levels) for role, levels in sorted(roles.items())}
    return graded


def _grading_rules(c: Consultation, among: set[str]) -> set[str]:
    """The rules of `among` that took a library finding in (a premise naming a library contribution, or from the
    library): they apply the finding, so it cannot contradict them."""
    r = c.result

    def from_library(p: Fact) -> bool:
        return any(literature.is_library_name(a) for a in p[1]) or r.sources.get(p, NO_SOURCE).kind == literature.KIND

    return {d.rule.id for ds in r.derivations.values() for d in ds
            if d.rule.id in among and any(from_library(p) for p in d.premises)}




def _by_material(findings: list[LibraryFinding]) -> dict[tuple[str, str], list[LibraryFinding]]:
    grouped: dict[tuple[str, str], list[LibraryFinding]] = {}
    for f in findings:
        grouped.setdefault((f.formula, f.ion or ""), []).append(f)
    return grouped


# --------------------------------------------------------------------------- hem describe TERM: the library's findings


def about(library: LibraryFindings | None, iri: str) -> list[dict[str, Any]]:
    """The library's findings about a term of the graph (an element, mechanism, carrier ion or reported material),
    each with how it bears on the term, and whether it agrees with the paper's rules and statements (the verdict of
    its own material's consultation with the library; none where no rule grades it)."""
    if library is None:
        return []
    v = vocab()
    name = iri.removeprefix(HEMKG)
    ions = {i.name: i.symbol for i in v.ions}
    mechanism_of_role = {json_key(m): m for m in v.mechanism_names}
    composition = _material_composition(name)
    judged: dict[str, dict[str, Any]] | None = None  # the verdicts consult every library material: only on need
    out = []
    for f in sorted(library.findings.values(), key=lambda f: (f.doi, f.formula, _number(f))):
        via = None
        if f.element == name:
            via = "element"
        elif f.mechanism == name or (f.role and mechanism_of_role.get(f.role) == name):
            via = "mechanism"
        elif ions.get(name) and f.ion == ions[name]:
            via = "carrier ion"
        elif composition is not None and f.material in library.matching(composition):
            via = "the same composition"
        elif name in v.cations and not f.element and name in library.compositions.get(f.material, {}):
            via = f"a material containing {name}"
        if via is None:
            continue
        record = {**finding_record(f), "anode": f.anode, "via": via}
        if judged is None:
            judged = verdicts(library) if library.compositions else {}
        entry = judged.get(f.id)
        if entry is not None:
            record["verdict"] = entry["verdict"]
            bears = _contradicted(f, entry) if entry["verdict"] == "disagrees" else entry["paper_rules"]
            record["bears_on"] = [rule_record(r) for r in bears or entry["rules"]]
        elif f.anode and f.material in library.compositions and (judged_here := _unused(f)) is not None:
            record["verdict"] = judged_here["verdict"]
            record["bears_on"] = judged_here.get("contradicts") or judged_here.get("agrees_with", [])
        out.append(record)
    return sorted(out, key=lambda r: r["via"] != "element")  # the term's own findings first


def _material_composition(name: str) -> dict[str, float] | None:
    from hemkg.consultation.formula import parse_formula
    from hemkg.errors import FormulaError
    from hemkg.graph.materials import reported_materials

    material = reported_materials().get(name)
    if material is None:
        return None
    try:
        return parse_formula(material["formula"]).composition
    except FormulaError:
        return None


def render_about(records: list[dict[str, Any]], label: str, width: int = 88) -> list[str]:
    """The describe section "What your library says about TERM", as lines."""
    if not records:
        return []
    lines = ["", f"What your library says about {label} (findings outside the paper)"]
    for r in records:
        where = "" if r["anode"] else " [cathode: kept, never used for an anode consultation]"
        lines.append(_wrap(f"{_finding_line(r)}{where}", "  - ", width, "    "))
        if "verdict" in r:
            rules = "; ".join(f"{b['rule']}, resting on {', '.join(b['rests_on'])} ({b['location']}; "
                              f"{b['citation']})" if b["rests_on"] else f"{b['rule']} ({b['citation']})"
                              for b in r["bears_on"])
            lines.append(_wrap(f"{r['verdict']} with the paper: {rules}", "    ", width, "      "))
        else:
            lines.append(_wrap(f"via {r['via']}; no rule of the paper grades it", "    ", width))
    return lines


# --------------------------------------------------------------------------- hem evidence conflicts


def conflicts(library: LibraryFindings | None) -> dict[str, Any]:
    """Every place where the library's findings disagree with the paper's guidelines or with each other."""
    answer: dict[str, Any] = {"paper": paper_citation(), "library": str(library.path) if library else None,
                              "with_paper": [], "not_named": [], "between_findings": []}
    if library is None:
        return answer
    judged = verdicts(library)
    for f in anode_findings(library):
        entry = judged.get(f.id)
        if entry is None:
            predicted = _unused(f)
            if predicted is not None and predicted["verdict"] == "disagrees":
                answer["with_paper"].append(predicted)
            continue
        if entry["verdict"] != "disagrees":
            continue
        answer["with_paper"].append({
            "finding": finding_record(f), "sentence": entry["sentence"], "status": entry["status"],
            "mechanism": json_key(entry["mechanism"]),
            **({"planes": entry["planes"], "plane_mechanisms": [json_key(m) for m in entry["plane_mechanisms"]]}
               if "planes" in entry else {}),
            "contradicts": [rule_record(r) for r in _contradicted(f, entry)],
            "graded_with_library": entry["graded"],
        })
    answer["not_named"] = _not_named(library)
    answer["between_findings"] = _between(library)
    return answer


def _unused(f: LibraryFinding) -> dict[str, Any] | None:
    """A finding no rule of its material's consultation takes in (a mechanism not seen in the material as a whole,
    say): its verdict is the paper's prediction's (`predict`, as hem evaluate compares it), so that conflicts and
    evaluate name the same disagreements. None for a finding evaluate does not compare."""
    if f.kind not in COMPARED_KINDS or (f.kind == COMPARED_KINDS[2] and not (f.element and f.role)) \
            or (f.kind != COMPARED_KINDS[2] and not f.mechanism):
        return None
    p = predict(f)
    verdict = {AGREE: "agrees", DISAGREE: "disagrees"}.get(p["verdict"])
    if verdict is None:
        return None
    status = p["prediction"].get("status")
    return {"finding": finding_record(f), "verdict": verdict, "sentence": f.statement,
            **({"status": status, "mechanism": p["key"]} if status else {"roles": p["prediction"]["roles"]}),
            "contradicts" if verdict == "disagrees" else "agrees_with": [rule_record(r) for r in p["rules"]],
            "graded_with_library": None, "judged_by": "the paper's prediction (no rule takes the finding in)"}


def _contradicted(f: LibraryFinding, entry: dict[str, Any]) -> list[str]:
    """The paper's rules a disagreeing finding contradicts: those said() names that do not apply the finding, and
    those behind the paper's own prediction for it (its material consulted without the library)."""
    predicted: dict[str, Any] = predict(f) if f.kind in COMPARED_KINDS else {"verdict": None}
    extra: list[str] = list(predicted["rules"]) if predicted["verdict"] == DISAGREE else []
    return list(dict.fromkeys([*entry["paper_rules"], *extra]))


def _not_named(library: LibraryFindings) -> list[dict[str, Any]]:
    """Mechanisms the paper's rules make accessible for a contribution's material (consulted without the library)
    that the contribution names neither as observed nor as not observed, where it names others: an abstract's
    silence, listed to be checked, not counted as a contradiction."""
    out = []
    for (formula, ion), group in _by_material(anode_findings(library)).items():
        named = {f.mechanism for f in group if f.kind in COMPARED_KINDS[:2] and f.mechanism}
        if not any(f.kind == COMPARED_KINDS[0] and not f.element for f in group):
            continue  # no mechanism the material as a whole was seen in: nothing to be silent beside
        roles = {f.role for f in group if f.role}
        structural = {f.element for f in group if f.role in STRUCTURAL}
        c = _paper_only(formula, ion)
        grades = summarise(c)["mechanisms"]
        for m in vocab().mechanism_names:
            elements = sorted(e for _, e in c.result.words("mechanism_element", m))
            if m in named or c.status(m) != "accessible" or json_key(m) in roles or not set(elements) - structural \
                    or grades[json_key(m)]["evidence"] == "not_shown_in_hems":
                continue  # named, not the planes' (no element, or only one the finding calls structural), or unshown
            first = group[0]
            out.append({"doi": first.doi, "formula": formula, "ion": ion, "mechanism": json_key(m),
                        "status": "accessible", "elements": elements,
                        "named": sorted(json_key(x) for x in named), "citation": f"doi:{first.doi}",
                        "rules": [rule_record(r) for r in _rule_ids(c, "status", m)]})
    return out


def _between(library: LibraryFindings) -> list[dict[str, Any]]:
    """Pairs of findings with opposite facts: the same element (or the material as a whole) seen and not seen in the
    same mechanism with the same carrier ion; the same material or different ones."""
    claims: dict[tuple[str, str, str], dict[str, list[tuple[str, LibraryFinding]]]] = {}
    for (predicate, args), source in sorted(library.facts.items(), key=lambda kv: kv[1].detail):
        f = library.findings.get(source.detail)
        if predicate != "observed" or f is None or not f.ion:
            continue
        subject, mechanism, material, state = (str(a) for a in args)
        whole = subject == material
        key = (_composition_key(library, material) if whole else subject, str(mechanism), f.ion)
        claims.setdefault(key, {}).setdefault(str(state), []).append((str(material), f))
    out = []
    for (subject, mechanism, ion), states in sorted(claims.items()):
        for m1, seen in states.get(literature.OBSERVED, []):
            for m2, unseen in states.get(literature.NOT_OBSERVED, []):
                if seen.doi == unseen.doi and m1 == m2:
                    continue  # one paper's own nuance (e.g. seen, hardly reversible) is not a conflict
                whole = subject.startswith("composition:")
                out.append({
                    "about": seen.formula if whole else subject, "mechanism": json_key(mechanism), "ion": ion,
                    "same_material": whole or _composition_key(library, m1) == _composition_key(library, m2),
                    "observed": finding_record(seen), "not_observed": finding_record(unseen),
                })
    return out


def _composition_key(library: LibraryFindings, material: str) -> str:
    comp = library.compositions.get(material, {})
    return "composition:" + ",".join(f"{e}={round(x, 2)}" for e, x in sorted(comp.items()))


# --------------------------------------------------------------------------- hem evaluate


@functools.lru_cache(maxsize=256)
def _paper_only(formula: str, ion: str) -> Consultation:
    return consult(formula, ion, None, None)


def _rule_ids(c: Consultation, predicate: str, *pattern: str) -> list[str]:
    return sorted({d.rule.id for d in c.derivations(predicate, *pattern)})


def predict(f: LibraryFinding) -> dict[str, Any]:
    """The paper's prediction for one finding (its material consulted without the library) and the verdict."""
    c = _paper_only(f.formula, f.ion or "")
    r = c.result
    if f.kind == COMPARED_KINDS[2]:  # element_role
        element, role = f.element or "", f.role or ""
        held = [x for _, x in r.words("role", element)]
        predicted = sorted(json_key(x) for x in held)
        wanted = STABILIZER if role in STRUCTURAL else role
        rules = sorted({d.rule.id for x in held for d in c.derivations("role", element, x)})
        if (role not in STRUCTURAL and role not in {json_key(m) for m in vocab().mechanism_names}) \
                or not predicted:
            verdict = NOT_PREDICTED  # an intercalation host: the rules give no element a role in intercalation
        else:
            verdict = AGREE if json_key(wanted) in predicted else DISAGREE
        return {"prediction": {"roles": predicted}, "verdict": verdict, "rules": rules, "group": "role",
                "key": role}
    mechanism = f.mechanism or ""
    status = c.status(mechanism)
    elements = sorted(e for _, e in r.words("mechanism_element", mechanism))
    observed = f.kind == COMPARED_KINDS[0]
    rules = _rule_ids(c, "status", mechanism)
    if status == "undetermined" or (f.element and observed and status == "accessible" and not elements):
        verdict = NOT_PREDICTED  # e.g. intercalation: the paper names no element that takes part in it
    elif observed:
        verdict = AGREE if status == "accessible" and (not f.element or f.element in elements) else DISAGREE
    else:
        verdict = DISAGREE if status == "accessible" and (not f.element or f.element in elements) else AGREE
    if f.element:
        rules += _rule_ids(c, "mechanism_element", mechanism, f.element)
    return {"prediction": {"status": json_key(status), "elements": elements}, "verdict": verdict,
            "rules": sorted(set(rules)), "group": "mechanism", "key": json_key(mechanism), "observed": observed}


def evaluate(library: LibraryFindings | None) -> dict[str, Any]:
    """How well the paper's guidelines predict the library's anode findings, counted per mechanism and per role."""
    rows = []
    for f in anode_findings(library) if library else []:
        if f.kind not in COMPARED_KINDS or (f.kind != COMPARED_KINDS[2] and not f.mechanism) \
                or (f.kind == COMPARED_KINDS[2] and not (f.element and f.role)):
            continue
        rows.append({"finding": finding_record(f), **predict(f)})
    counts: dict[str, dict[str, dict[str, int]]] = {"mechanism": {}, "role": {}}
    for row in rows:
        tally = counts[row["group"]].setdefault(row["key"], {AGREE: 0, DISAGREE: 0, NOT_PREDICTED: 0})
        tally[row["verdict"]] += 1
    return {"paper": paper_citation(), "library": str(library.path) if library else None,
            "compared": len(rows), "by_mechanism": counts["mechanism"], "by_role": counts["role"],
            "totals": {v: sum(1 for r in rows if r["verdict"] == v) for v in (AGREE, DISAGREE, NOT_PREDICTED)},
            "status_prediction": _precision_recall([r for r in rows if r["group"] == "mechanism"]),
            "findings": rows, "disagreements": [r for r in rows if r["verdict"] == DISAGREE]}


def _precision_recall(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The status as a classifier of observed mechanisms: predicted accessible (with the element among the
    mechanism's elements where the finding names one) against observed; not-predicted rows left out."""
    tp = sum(1 for r in rows if r["verdict"] == AGREE and r["observed"])
    tn = sum(1 for r in rows if r["verdict"] == AGREE and not r["observed"])
    fn = sum(1 for r in rows if r["verdict"] == DISAGREE and r["observed"])
    fp = sum(1 for r in rows if r["verdict"] == DISAGREE and not r["observed"])
    return {"true_positive": tp, "false_positive": fp, "false_negative": fn, "true_negative": tn,
            "precision": round(tp / (tp + fp), 3) if tp + fp else None,
            "recall": round(tp / (tp + fn), 3) if tp + fn else None}


# --------------------------------------------------------------------------- terminal text


def _wrap(text: str, first: str, width: int, rest: str | None = None) -> str:
    return textwrap.fill(text, width=width, initial_indent=first, subsequent_indent=rest or " " * len(first))


def _finding_line(f: dict[str, Any]) -> str:
    return f"{f['statement']}, {f['ion']}+: \"{f['quote']}\" ({f['citation']}, {f['evidence_level'].replace('_', ' ')})"


def _spoken(key: str) -> str:
    return key.replace("_", " ")


def render_conflicts(answer: dict[str, Any], width: int = 88) -> str:
    """`hem evidence conflicts` as terminal text."""
    if answer["library"] is None:
        return "No literature library here: hem evidence add FILE starts one."
    lines = [f"Where your library disagrees with the paper ({answer['paper']}) or with itself",
             f"library at {answer['library']}", ""]
    lines.append("With the paper's guidelines")
    if not answer["with_paper"]:
        lines.append("  (none: every finding the rules grade agrees with them)")
    for item in answer["with_paper"]:
        lines.append(_wrap(_finding_line(item["finding"]), "  - ", width, "    "))
        element = item["finding"].get("element")
        paper = (f"Fig. 6a puts {element} on Plane {', '.join(item['planes'])} "
                 f"({', '.join(m.replace('_', ' ') for m in item['plane_mechanisms'])})" if item.get("planes")
                 else f"the paper's status of {_spoken(item['mechanism'])}: {_spoken(item['status'])}"
                 if "status" in item else f"the paper's roles of {element}: {', '.join(map(_spoken, item['roles']))}")
        lines.append(_wrap(f"finding: {item['sentence']}; {paper}", "    ", width))
        graded = item["graded_with_library"]
        if graded is None:
            lines.append(_wrap(f"judged by {item['judged_by']}", "    ", width))
        else:
            levels = [f"{_spoken(m)} {_spoken(lv)}" for m, lv in graded["mechanisms"].items()]
            levels += [f"{element} as {_spoken(role)} {_spoken(lv)}" for role, lv in graded.get("roles", {}).items()]
            lines.append(_wrap("consulted with the library, the evidence here: " + ", ".join(levels), "    ", width))
        for rule in item["contradicts"]:
            lines.append(_wrap(f"contradicts {rule['rule']}: {rule['statement']} ({rule['location']}; "
                               f"{rule['citation']})", "    ", width, "      "))
    lines += ["", "Mechanisms the planes make accessible that a contribution does not name (silence, not a "
              "contradiction)"]
    if not answer["not_named"]:
        lines.append("  (none)")
    for item in answer["not_named"]:
        by = f" by {', '.join(item['elements'])}" if item["elements"] else ""
        rules = "; ".join(f"{r['rule']} ({r['location']}; {r['citation']})" for r in item["rules"])
        named = spoken_list([_spoken(m) for m in item["named"]])
        lines.append(_wrap(f"{item['formula']}, {item['ion']}+ ({item['citation']}) names {named} but not "
                           f"{_spoken(item['mechanism'])}, which the paper's rules make accessible{by}: {rules}",
                           "  - ", width, "    "))
    lines += ["", "Between findings (the same element or material seen and not seen in a mechanism, same ion)"]
    if not answer["between_findings"]:
        lines.append("  (none)")
    for item in answer["between_findings"]:
        where = "the same material" if item["same_material"] else "different materials"
        lines.append(_wrap(f"{item['about']}, {item['mechanism']}, {item['ion']}+ ({where}):", "  - ", width))
        lines.append(_wrap("seen: " + _finding_line(item["observed"]), "    ", width, "      "))
        lines.append(_wrap("not seen: " + _finding_line(item["not_observed"]), "    ", width, "      "))
    return "\n".join(lines)


def render_evaluation(answer: dict[str, Any], width: int = 88) -> str:
    """`hem evaluate` as terminal text: the tables per mechanism and per role, then each disagreement."""
    if answer["library"] is None:
        return "No literature library here: hem evidence add FILE starts one."
    lines = [f"How well the paper's guidelines ({answer['paper']}) predict your library",
             f"library at {answer['library']}; {answer['compared']} anode finding(s) compared "
             "(each material consulted without the library)", ""]
    for title, table in (("mechanism", answer["by_mechanism"]), ("role", answer["by_role"])):
        lines.append(f"  {title:<20} {'agree':>6} {'disagree':>9} {'not predicted':>14}")
        for key, tally in sorted(table.items()):
            lines.append(f"  {key.replace('_', ' '):<20} {tally[AGREE]:>6} {tally[DISAGREE]:>9} "
                         f"{tally[NOT_PREDICTED]:>14}")
        if not table:
            lines.append("  (no finding)")
        lines.append("")
    t, s = answer["totals"], answer["status_prediction"]
    lines.append(f"  all: {t[AGREE]} agree, {t[DISAGREE]} disagree, {t[NOT_PREDICTED]} not predicted")

    def ratio(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.2f}"

    lines.append(_wrap(f"status as a predictor of observed mechanisms: precision {ratio(s['precision'])}, recall "
                       f"{ratio(s['recall'])} ({s['true_positive']} seen and accessible, {s['false_positive']} not "
                       f"seen but accessible, {s['false_negative']} seen but not accessible)", "  ", width, "    "))
    lines += ["", "Disagreements"]
    if not answer["disagreements"]:
        lines.append("  (none)")
    for row in answer["disagreements"]:
        p = row["prediction"]
        said = (f"the paper's roles of {row['finding']['element']}: {', '.join(p['roles'])}" if "roles" in p
                else f"the paper's status: {p['status'].replace('_', ' ')}"
                + (f" ({', '.join(p['elements'])})" if p.get("elements") else ""))
        lines.append(_wrap(_finding_line(row["finding"]), "  - ", width, "    "))
        lines.append(_wrap(f"{said}; rules {', '.join(row['rules'])}", "    ", width))
    return "\n".join(lines)
