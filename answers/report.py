"""Terminal text for consultations and comparisons: headed sections, references as [41]."""

from __future__ import annotations

import textwrap
from typing import Any

from hemkg.consultation.consultation import effect_properties
from hemkg.consultation.evidence import evidence_scale, short_words
from hemkg.consultation.oxidation import sentence
from hemkg.graph import statements as knowledge
from hemkg.graph.store import HEMKG


def property_names() -> dict[str, str]:
    """JSON key -> the short name answers print, for each property the rules conclude effects on."""
    return {p.json_key: p.short_label or p.label for p in effect_properties()}


def cite(numbers: list[int]) -> str:
    """[9, 31, 32, 33] -> '[9, 31-33]' (runs of three or more become ranges); empty -> ''."""
    nums = sorted(set(numbers))
    parts: list[str] = []
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        parts += [f"{nums[i]}-{nums[j]}"] if j - i >= 2 else [str(n) for n in nums[i:j + 1]]
        i = j + 1
    return f"[{', '.join(parts)}]" if parts else ""


def _wrap(text: str, indent: str, width: int) -> str:
    return textwrap.fill(text, width=width, initial_indent=indent, subsequent_indent=" " * len(indent))


def _names_its_about(finding: dict[str, Any]) -> bool:
    """Whether the finding's text already names what it is about (the reported examples; a material's label)."""
    return all(
        knowledge.label(HEMKG + a) in finding["text"] for a in finding["about"])


def _reports(items: list[dict[str, Any]], side: int = 0) -> str:
    """The materials behind evidence items, each once, with the references of the report on it (its place in the
    paper where it has none) and what the reports say of reversibility, e.g. ref 46's material with its two
    partly reversible elements, or NiS (Fig. 5i). `side` 1: a conflict's other material."""
    return ", ".join(reports_by_material(items, side).values())


def reports_by_material(items: list[dict[str, Any]], side: int = 0) -> dict[str, str]:
    """Material -> its words in _reports(), in the order the items name them."""
    refs: dict[str, list[str]] = {}
    nuances: dict[str, dict[str, list[str]]] = {}

    def add(material: str, report: dict[str, Any], element: str) -> None:
        shown = cite(report["references"]) or (f"({report['location']})" if report["location"] else "")
        cited = refs.setdefault(material, [])
        if shown and shown not in cited:
            cited.append(shown)
        if report.get("reversibility"):
            nuances.setdefault(material, {}).setdefault(report["reversibility"], []).append(element)

    for item in items:
        materials, reports = item.get("materials", []), item.get("reports", [])
        if reports and "material" in reports[0]:  # reports gathered for every candidate: each names its material
            for report in reports:
                if report.get("side", 0) == side:
                    add(report["material"], report, item.get("element", ""))
        elif side < len(materials):
            add(materials[side], reports[side] if side < len(reports) else
                {"references": item["references"], "location": ""}, item.get("element", ""))
    out = {}
    for material, cited in refs.items():
        said = "; ".join(f"{', '.join(sorted(set(xs)))} {what}" for what, xs in nuances.get(material, {}).items())
        out[material] = " ".join([material, *cited, *([f"({said})"] if said else [])])
    return out


def more_words(items: list[dict[str, Any]]) -> str:
    """', and 37 more findings in your library (hem consult --all-findings lists them)' for the items that count
    the library's findings not listed (consultation/evidence.py more_item); '' where there are none."""
    more = sum(i.get("more", 0) for i in items)
    return f", and {more} more finding{'s' if more != 1 else ''} in your library on related materials " \
           "(--all-findings lists them)" if more else ""


def evidence_words(level: str, detail: list[dict[str, Any]], hem: bool = True) -> str:
    """The evidence level in words, with the reports or the place in the paper behind it (`hem`: whether the
    candidate is a HEM, which says what kind the uncounted reports of the other kind are)."""
    short = short_words()[level]
    counted = [i for i in detail if i["level"] == level and i.get("counts") is not False]
    reports = _reports(counted) + more_words(counted)
    if level == "conflicting":
        on = ", ".join(sorted({i["element"] for i in counted if "element" in i}))
        words = f"{short} on {on}: seen in {reports}; not in {_reports(counted, side=1)}"
    elif reports:
        words = f"{short}: {reports}"
    else:
        where = "; ".join(dict.fromkeys(i["location"] for i in counted if i.get("location")))
        words = f"{short} ({where})" if where else short
    uncounted = [i for i in detail if i.get("counts") is False]
    elsewhere = _reports(uncounted) + more_words(uncounted)
    other = "only in materials that are not HEMs" if hem else "in HEMs"
    return words + (f". Shown {other} (not counted for this candidate): {elsewhere}" if elsewhere else "")


def _role_words(role: str, graded: dict[str, Any] | None) -> str:
    name = role.replace("_", " ")
    if not graded or graded["evidence"] == evidence_scale()[-1].id:
        return name
    return f"{name}: {evidence_words(graded['evidence'], graded['evidence_detail'])}"


def library_line(item: dict[str, Any]) -> str:
    """One finding of the user's library beside the paper: 'disagrees: in Fe0.2...O (doi:...), Zn was not seen in
    conversion, where Fig. 6a puts Zn in conversion (Plane A; rule conversion-elements). "ZnO serves as ..."'."""
    where = []
    if item.get("planes"):
        mechanisms = " and ".join(m.replace("-", " ") for m in item["plane_mechanisms"])
        where.append(f"Fig. 6a puts {item['element']} in {mechanisms} (Plane {', '.join(item['planes'])})")
    where.append(f"the paper's status: {item['status'].replace('_', ' ')}")
    rule = f"; rule {item['rule']}" if item.get("rule") else ""
    level = item["evidence_level"].replace("_", " ")
    return (f"{item['verdict']}: {item['sentence']}; {', '.join(where)}{rule}. \"{item['quote']}\" "
            f"(doi:{item['doi']}, {level})")


def render_consultation(d: dict[str, Any], width: int = 88, full_refs: bool = False) -> str:
    head = f"{d['formula']} with {d['ion']}+"
    if d.get("framework"):
        head += f" (active material {d['active_formula']} on a {d['framework']} framework)"
    lines = [head, "=" * min(width, len(head))]
    if d["scope"]["extrapolated"]:
        lines += ["", _wrap(f"Outside the paper's scope: {d['scope']['text']} {cite(d['scope']['citations'])}",
                            "", width)]
    lines.append("")
    lines.append(_wrap("Mechanisms (status: what element selection makes accessible, Fig. 6a, Table 1; then the "
                       "evidence)", "", width))
    hem = d["entropy"]["meets_hem_definition"]
    column = max(len(", ".join(m["elements"]) or "-") for m in d["mechanisms"].values())  # as wide as the content
    for name, m in d["mechanisms"].items():
        elements = ", ".join(m["elements"]) or "-"
        status = m["status"].replace("_", " ")
        lines.append(f"  {name.replace('_', ' '):<14} {status:<14} {elements:<{column}} {cite(m['citations'])}")
        lines.append(_wrap(f"{status}; {evidence_words(m['evidence'], m['evidence_detail'], hem)}", " " * 6, width))
    lines += ["", "Roles"]
    for symbol, roles in d["roles"].items():
        named = "; ".join(_role_words(role, d["role_evidence"].get(symbol, {}).get(role)) for role in roles)
        lines.append(_wrap(named or "no role the paper assigns here", f"  {symbol:<3} ", width))
    if d.get("library"):
        lines += ["", "What your library says (its findings beside the paper's rules)"]
        for item in d["library"]:
            lines.append(_wrap(item["text"] if "more" in item else library_line(item), "  - ", width))
    lines += ["", "Effects on performance"]
    for e in sorted(d["effects"], key=lambda e: (e["property"], e["direction"] == "-")):
        verb = ("raise" if e["direction"] == "+" else "lower") + ("s" if len(e["elements"]) == 1 else "")
        name = property_names().get(e["property"], e["property"])
        text = f"{name}: {', '.join(e['elements'])} {verb} it. {e['statement']} {cite(e['citations'])}"
        lines.append(_wrap(text, "  - ", width))
    for title, key in (("Structure design", "recommendations"),):
        if d[key]:
            lines += ["", title]
            for r in d[key]:
                lines.append(_wrap(f"{r['label']}: {r['text']} {cite(r['citations'])}", "  - ", width))
    for title, key in (("Cautions", "cautions"), ("Notes", "notes"), ("Warnings", "warnings")):
        if d[key]:
            lines += ["", title]
            for n in d[key]:
                about = f" ({', '.join(n['about'])})" if n.get("about") and not _names_its_about(n) else ""
                outside = " [outside the paper]" if n.get("outside_paper") else ""
                text = f"{n['text']}{about} {cite(n.get('citations', []))}{outside}".strip()
                lines.append(_wrap(text, "  - ", width))
    if d["techniques"]:
        lines += ["", "Techniques the paper names for the accessible mechanisms (Section 4 (III), Section 2)"]
        for mechanism, roles in d["techniques"].items():
            parts = []
            if roles["confirms"]:
                parts.append(f"to confirm it: {', '.join(roles['confirms'])}")
            if roles["complements"]:
                parts.append(f"complementary, not confirming by themselves: {', '.join(roles['complements'])}")
            lines.append(_wrap(f"{mechanism.replace('_', ' ')}: {'; '.join(parts)}", "  - ", width))
    e, cap = d["entropy"], d["theoretical_capacity"]
    lines += ["", "Beyond the paper (estimates, not the paper's claims)"]
    oxidation = d["oxidation_states"]
    lines.append(_wrap(sentence(f"Oxidation states: {oxidation['text']}") if oxidation["charge_balanced"]
                       else "Oxidation states: not charge-balanced; see Warnings.", "  ", width))
    definition = e["hem_definition"]
    hem = "yes" if e["meets_hem_definition"] else f"no ({e.get('why_not_hem', '')})"
    unchecked = "".join(f" Not checked: {sentence(text)}" for text in definition["not_checked"])
    lines.append(_wrap(f"Configurational entropy: cation site {e['cation_site_R']} R ({e['class']}), anion site "
                       f"{e['anion_site_R']} R. Meets the criteria of the paper's HEM definition that a formula can "
                       f"show ({'; '.join(definition['criteria_checked'])}): {hem}.{unchecked}", "  ", width))
    lines += [_wrap(text, indent, width) for indent, text in capacity_sentences(cap)]
    cited = sorted({n for section in ("effects", "recommendations", "notes", "cautions")
                    for item in d[section] for n in item.get("citations", [])}
                   | {n for m in d["mechanisms"].values() for n in m["citations"]}
                   | {n for v in cap["reported"] for n in v["references"]}
                   | set(cap.get("beyond_theoretical", {}).get("citations", [])))
    if full_refs and cited:
        refs = knowledge.references()
        lines += ["", "References"]
        lines += [_wrap(f"[{n}] {refs[n]['citation']}", "  ", width) for n in cited]
    elif cited:
        lines += ["", f"References cited: {cite(cited)}; --refs prints them in full, `hem describe 'ref N'` one."]
    return "\n".join(lines) + "\n"


def _figure(x: float | None) -> str:
    return "not computed" if x is None else f"{x:.1f}"


def capacity_sentences(cap: dict[str, Any]) -> list[tuple[str, str]]:
    """The theoretical capacity in words, as (indent, sentence): the total, then each mechanism's arithmetic, the
    paper's figures."""
    total = ("cannot be computed (see conversion)" if cap["total"] is None
             else f"{cap['total']:.1f} {cap['unit']} (conversion {_figure(cap['conversion'])} + alloying "
                  f"{_figure(cap['alloying'])})")
    out = [("  ", f"Theoretical capacity from the reactions element selection makes accessible: {total}; formula "
                  f"mass {cap['formula_mass_g_mol']:.2f} g/mol, {cap['faraday_mAh_mol']:.0f} mAh per mol of "
                  "electrons.")]
    out += [("  - ", part["text"]) for part in cap["arithmetic"].values()]
    out += [("  - ", sentence(text[:1].upper() + text[1:])) for text in cap["not_estimable"].values()]
    for value in cap["reported"]:
        qualifier = "" if value["qualifier"] == "exactly" else f"{value['qualifier']} "
        condition = f", {value['condition']}" if value["condition"] else ""
        out.append(("  - ", f"The paper reports {qualifier}{value['mAh_g']:g} mAh/g for {value['label']} "
                            f"({value['relation']}{condition}) {cite(value['references'])}"
                            + ("; above the theoretical figure." if value["exceeds_theoretical"] else ".")))
    beyond = cap.get("beyond_theoretical")
    if beyond and not beyond["also_a_note"]:
        out.append(("  - ", f"{beyond['text']} {cite(beyond['citations'])}"))
    return out


def render_comparison(rows: list[dict[str, Any]], width: int = 88) -> str:
    """Candidates side by side (a table sized to its content and the width): statuses, roles, entropy and
    theoretical capacity."""
    from hemkg.system.text import fit, table

    names = [r["formula"] + ("" if len({x["ion"] for x in rows}) == 1 else f" ({r['ion']}+)") for r in rows]
    body: list[list[str]] = []

    def row(label: str, values: list[str]) -> None:
        body.append([label, *map(str, values)])

    for m in rows[0]["mechanisms"]:
        row(m.replace("_", " "), [r["mechanisms"][m]["status"].replace("_", " ") for r in rows])
    row("stabilizers", [", ".join(s for s, roles in r["roles"].items() if "stabilizer" in roles) or "-"
                        for r in rows])
    row("unclassified", [", ".join(s for s, roles in r["roles"].items() if "unclassified" in roles) or "-"
                         for r in rows])
    for prop, name in property_names().items():
        row(f"{name} (+/-)", [f"+{sum(1 for e in r['effects'] if e['property'] == prop and e['direction'] == '+')}"
                              f" / -{sum(1 for e in r['effects'] if e['property'] == prop and e['direction'] == '-')}"
                              for r in rows])
    row("entropy, cation R", [f"{r['entropy']['cation_site_R']} ({r['entropy']['class']})" for r in rows])
    row("HEM criteria checked", ["yes" if r["entropy"]["meets_hem_definition"] else "no" for r in rows])
    row("theoretical cap. mAh/g", [_figure(r["theoretical_capacity"]["total"]) for r in rows])
    footnote = ("(+/-: how many of the paper's effect rules raise or lower the property; entropy and capacity are "
                "estimates beyond the paper. `hem consult FORMULA` gives each in full.)")
    return table(["", *names], body, width, wrap=range(1, len(names) + 1)) + "\n" + fit(footnote, width) + "\n"
