"""A library of many findings on related materials is summarised, not dumped (issue 13).

The perspective grades a candidate's evidence by reports on the very material, on related materials of its kind,
and on HEM anodes in general (Section 3.1: the role of an element "depends on the specific composition"; the
scale of rules/85-evidence.toml). With a literature library of hundreds of findings, every material sharing a
cation with the candidate is a related report. An answer lists the RELATED_SHOWN = 5 library findings on related
materials whose material shares the most elements with the candidate (then by DOI) and counts the rest in one
item; of the library findings that conflict with one of the paper's reports, those on the 5 closest materials; and
in "What your library says", the 5 closest agreeing and the 5 closest disagreeing findings on related materials.
Every report on the very material, every contradiction and the paper's own reports are never cut.
`--all-findings` lists everything.

The library is built in each test's own folder from the Joule-heated rock-salt HEO's findings of
examples/findings.csv (doi:10.26599/nr.2025.94907784), copied onto generated oxides (tests/conftest.py
related_findings_rows). The candidate is the paper's (MgCoNiCuZn)O (ref 48, Section 3.1; ref 46, Fig. 3l-m).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import related_findings_rows, run, write_findings

from hemkg.consultation.literature import RELATED_SHOWN

CANDIDATE = ("Mg", "Co", "Ni", "Cu", "Zn")  # (MgCoNiCuZn)O, Section 3.1 (ref 48)
FILLERS = ("Fe", "Mn", "Cr", "Ti", "Al", "V", "Ga")  # cations the candidate does not hold
RELATED, STRUCTURAL = 27, 8  # Cu conversion findings on related oxides; Zn stabilizer findings


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    return related_findings_rows(CANDIDATE, FILLERS, RELATED, STRUCTURAL)


@pytest.fixture(scope="module")
def answers(rows, tmp_path_factory) -> dict[str, dict]:
    """(MgCoNiCuZn)O with Li and the library: the JSON answer as `hem consult` gives it, summarised and with
    --all-findings, and `hem explain` as JSON both ways."""
    import os

    from click.testing import CliRunner

    folder = tmp_path_factory.mktemp("summary")
    csv_path = write_findings(folder / "related.csv", rows)
    runner = CliRunner()
    env = {"HEMKG_LIBRARY": str(folder / "library"), "XDG_DATA_HOME": str(folder / "xdg")}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        added = run(runner, "evidence", "add", str(csv_path))
        assert added.exit_code == 0, added.stderr
        out = {}
        for name, args in (("summary", ()), ("all", ("--all-findings",))):
            for command in ("consult", "explain"):
                done = run(runner, command, "(MgCoNiCuZn)O", "--ion", "Li", "--json", *args)
                assert done.exit_code == 0, done.stderr
                out[f"{command}-{name}"] = json.loads(done.stdout)
            text = run(runner, "consult", "(MgCoNiCuZn)O", "--ion", "Li", *args)
            assert text.exit_code == 0, text.stderr
            out[f"text-{name}"] = {"text": text.stdout}
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return out


def related_rows(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The rows of Cu conversion findings on related materials (not the candidate's own composition)."""
    return [r for r in rows if r["element"] == "Cu" and int(r["shared"]) < len(CANDIDATE)]


def closest(rows: list[dict[str, str]]) -> list[str]:
    """The labels of the RELATED_SHOWN related rows that share the most elements, then by DOI."""
    ranked = sorted(related_rows(rows), key=lambda r: (-int(r["shared"]), r["doi"]))
    return [f"{r['formula']} (doi:{r['doi']})" for r in ranked[:RELATED_SHOWN]]


def library_items(detail: list[dict], level: str) -> list[dict]:
    """The items of `level` on a library material (a report of source library), listed in full."""
    return [i for i in detail if i["level"] == level and "more" not in i
            and any(r.get("source") == "library" for r in i.get("reports", []))]


def test_evidence_detail_keeps_the_five_closest_and_counts_the_rest(answers, rows):
    """Cu's conversion role (Fig. 6a, Plane A) in (MgCoNiCuZn)O: of the library's reported_related findings (Cu
    seen converting in related oxides, doi:10.26599/nr.2025.94907784's words), the 5 listed are those sharing the
    most of Mg, Co, Ni, Cu, Zn (then by DOI); one item counts the rest, as many as the CSV holds beyond the 5."""
    grade = answers["consult-summary"]["role_evidence"]["Cu"]["conversion"]
    listed = library_items(grade["evidence_detail"], "reported_related")
    assert [i["materials"][0] for i in listed] == closest(rows)
    (more,) = [i for i in grade["evidence_detail"] if "more" in i]
    assert more["level"] == "reported_related" and more["source"] == "library"
    assert more["more"] == len(related_rows(rows)) - RELATED_SHOWN
    assert f"{more['more']} more findings" in more["text"] and "--all-findings" in more["text"]
    # the mechanism's own grade (evidence(conversion, reported_related)) is cut the same way
    conversion = answers["consult-summary"]["mechanisms"]["conversion"]["evidence_detail"]
    assert len(library_items(conversion, "reported_related")) == RELATED_SHOWN
    assert sum(i.get("more", 0) for i in conversion if i["level"] == "reported_related") == \
        len(related_rows(rows)) - RELATED_SHOWN


def test_all_findings_lists_every_one(answers, rows):
    """--all-findings: every related finding of the CSV, no count; the strongest level is the same either way
    (it is read from every conclusion before the cut)."""
    summary, full = answers["consult-summary"], answers["consult-all"]
    grade = full["role_evidence"]["Cu"]["conversion"]
    listed = library_items(grade["evidence_detail"], "reported_related")
    assert sorted(i["materials"][0] for i in listed) == sorted(
        f"{r['formula']} (doi:{r['doi']})" for r in related_rows(rows))
    assert not any("more" in i for m in full["mechanisms"].values() for i in m["evidence_detail"])
    assert not any("more" in e for e in full["library"])
    for name, m in full["mechanisms"].items():
        assert summary["mechanisms"][name]["evidence"] == m["evidence"]
    agreeing = [e for e in full["library"] if e["verdict"] == "agrees" and not e["this_material"]]
    assert len(agreeing) == len(related_rows(rows))


def test_reports_here_contradictions_and_the_papers_are_never_cut(answers):
    """Every item of reported_here (refs 46 and 48 on this very material, and the library's own-composition
    finding) and contradicted_here, and every item that rests on the paper's reports alone, is the same with or
    without --all-findings."""
    def kept(answer: dict) -> list[str]:
        grades = [m for m in answer["mechanisms"].values()]
        grades += [g for roles in answer["role_evidence"].values() for g in roles.values()]
        return sorted(json.dumps(i, sort_keys=True) for g in grades for i in g["evidence_detail"]
                      if i["level"] in ("reported_here", "contradicted_here")
                      or ("more" not in i and not any(r.get("source") == "library" for r in i.get("reports", []))))

    summary, full = kept(answers["consult-summary"]), kept(answers["consult-all"])
    assert summary == full
    assert any('"reported_here"' in i for i in summary) and any('"source": "paper"' in i for i in summary)


def structural_materials(detail: list[dict]) -> list[str]:
    """The library materials of the conflicting items listed, in order, each once."""
    return list(dict.fromkeys(m for i in library_items(detail, "conflicting") for m in i["materials"]
                              if "doi:10.5555/structural." in m))


def test_conflicts_with_the_library_show_the_five_closest_materials_and_count_the_rest(answers, rows):
    """Zn's conversion role in (MgCoNiCuZn)O conflicts: ref 46 sees Zn converting in (Mg0.2Co0.2Ni0.2Cu0.2Zn0.2)O
    (Section 2.2, Fig. 3l-m) and ref 48 in (MgCoNiCuZn)O, ref 41 does not in (LiFeZnNiCoMn)3O4 (Section 3.1), nor
    does each of the library's Zn stabilizer findings. The reports that disagree on Zn are gathered once (rules/
    85-evidence.toml, reports-disagree): one item lists every one of the paper's materials and, of the library's,
    the 5 closest (they share only Zn, so by DOI), each with its report; one item counts the findings of the rest;
    --all-findings lists them all. The level stays conflicting either way."""
    structural = [f"{r['formula']} (doi:{r['doi']})"
                  for r in sorted((r for r in rows if r["role"] == "stabilizer"), key=lambda r: r["doi"])]
    papers = ["(Mg0.2Co0.2Ni0.2Cu0.2Zn0.2)O", "(LiFeZnNiCoMn)3O4", "(MgCoNiCuZn)O"]  # refs 46, 41, 48
    summary = answers["consult-summary"]["role_evidence"]["Zn"]["conversion"]
    full = answers["consult-all"]["role_evidence"]["Zn"]["conversion"]
    (item,) = library_items(summary["evidence_detail"], "conflicting")
    assert sorted(item["materials"]) == sorted(papers + structural[:RELATED_SHOWN])
    assert {r["material"] for r in item["reports"]} == set(item["materials"]) and item["references"] == [41, 46, 48]
    assert {r["material"] for r in item["reports"] if r["side"] == 1} == {papers[1], *structural[:RELATED_SHOWN]}
    (every,) = library_items(full["evidence_detail"], "conflicting")
    assert sorted(every["materials"]) == sorted(papers + structural)
    (more,) = [i for i in summary["evidence_detail"] if i.get("more") and i["level"] == "conflicting"]
    assert more["more"] == len(structural) - RELATED_SHOWN and "disagree likewise" in more["text"]
    assert summary["evidence"] == full["evidence"]


def test_said_lists_own_findings_in_full_and_the_closest_others(answers, rows):
    """"What your library says": the finding on (MgCoNiCuZn)O itself in full; of the Zn stabilizer findings on
    related oxides (they disagree: Fig. 6a puts Zn on Plane A and B) and of the agreeing Cu conversion findings,
    the 5 closest of each, then one entry counting the rest; the text report says the same."""
    said = answers["consult-summary"]["library"]
    own = [e for e in said if e["this_material"]]
    assert [e["doi"] for e in own] == ["10.5555/related.own"]
    stabilizers = sorted(r["doi"] for r in rows if r["role"] == "stabilizer")  # sharing only Zn: by DOI
    disagreeing = [e for e in said if e["verdict"] == "disagrees" and "more" not in e]
    assert [e["doi"] for e in disagreeing] == stabilizers[:RELATED_SHOWN]
    agreeing = [e for e in said if e["verdict"] == "agrees" and not e["this_material"] and "more" not in e]
    assert [f"{e['material']} (doi:{e['doi']})" for e in agreeing] == sorted(
        closest(rows), key=lambda label: label.split("doi:")[1])  # listed in the section's order: by DOI
    more = {e["verdict"]: e for e in said if "more" in e}
    assert more["agrees"]["more"] == len(related_rows(rows)) - RELATED_SHOWN
    assert more["disagrees"]["more"] == len(stabilizers) - RELATED_SHOWN
    assert {e["mechanism"] for e in more.values()} == {"conversion"}
    text = " ".join(answers["text-summary"]["text"].split())
    assert f"and {more['agrees']['more']} more agreeing findings on related materials" in text
    assert f"and {more['disagrees']['more']} more disagreeing findings on related materials" in text
    all_said = answers["consult-all"]["library"]
    assert sorted(e["doi"] for e in all_said if e["verdict"] == "disagrees") == stabilizers
    assert "more agreeing" not in answers["text-all"]["text"]


def test_explain_summarises_and_lists_all(answers, rows):
    """hem explain's grades beside Cu's conversion role: the 5 closest and the count; with --all-findings,
    every one."""
    def cu_grade(tree: dict) -> dict:
        (record,) = [r for r in tree["conclusions"] if r["fact"] == "role(Cu, conversion)"]
        return record["graded"]

    summary = cu_grade(answers["explain-summary"])["evidence_detail"]
    full = cu_grade(answers["explain-all"])["evidence_detail"]
    assert len(library_items(summary, "reported_related")) == RELATED_SHOWN
    assert sum(i.get("more", 0) for i in summary) == len(related_rows(rows)) - RELATED_SHOWN
    assert len(library_items(full, "reported_related")) == len(related_rows(rows))


def test_the_summarised_answer_is_valid_under_the_schema(answers):
    """answers/consult.schema.json describes the count items (evidence_detail and the library section) and the
    library section's findings; an item that counts none is invalid."""
    import copy

    import jsonschema

    from hemkg.graph.store import package_files

    (path,) = package_files("answers", "consult.schema.json")
    validator = jsonschema.Draft202012Validator(json.loads(path.read_text(encoding="utf-8")))
    for name in ("consult-summary", "consult-all"):
        assert [e.message for e in validator.iter_errors(answers[name])] == []
    broken = copy.deepcopy(answers["consult-summary"])
    next(i for i in broken["role_evidence"]["Cu"]["conversion"]["evidence_detail"] if "more" in i)["more"] = 0
    assert list(validator.iter_errors(broken))


def test_api_all_findings(answers, own_library: Path, rows):
    """hemkg.consult(..., all_findings=True) lists every finding, as --all-findings does; by default, the count."""
    import hemkg

    own_library.parent.mkdir(parents=True, exist_ok=True)
    write_findings(own_library.parent / "related.csv", rows)
    from click.testing import CliRunner

    assert run(CliRunner(), "evidence", "add", str(own_library.parent / "related.csv")).exit_code == 0
    summary = hemkg.consult("(MgCoNiCuZn)O", "Li").to_dict()
    full = hemkg.consult("(MgCoNiCuZn)O", "Li", all_findings=True).to_dict()
    assert summary == answers["consult-summary"] and full == answers["consult-all"]
    tree = hemkg.explain("(MgCoNiCuZn)O", ion="Li", all_findings=True).tree
    assert tree == answers["explain-all"]


def test_said_of_some_materials_lists_theirs_alone(own_library: Path, rows):
    """literature.said(c, materials) (hem evidence conflicts and hem evaluate ask for one contribution's own
    findings) lists the findings of those materials and no other, each as said(c, all_findings=True) gives it:
    here one Zn stabilizer finding on a related oxide and the Cu conversion finding on (MgCoNiCuZn)O itself."""
    from click.testing import CliRunner

    from hemkg.consultation import literature
    from hemkg.consultation.consultation import consult

    own_library.parent.mkdir(parents=True, exist_ok=True)
    write_findings(own_library.parent / "related.csv", rows)
    assert run(CliRunner(), "evidence", "add", str(own_library.parent / "related.csv")).exit_code == 0
    library = literature.load(own_library)
    c = consult("(MgCoNiCuZn)O", "Li", library=library)
    every = literature.said(c, all_findings=True)
    stabilizer = sorted(r["doi"] for r in rows if r["role"] == "stabilizer")[-1]  # the farthest by DOI
    wanted = {f.material for f in library.findings.values() if f.doi in (stabilizer, "10.5555/related.own")}
    some = literature.said(c, frozenset(wanted), all_findings=True)
    assert sorted(e["doi"] for e in some) == sorted([stabilizer, "10.5555/related.own"])
    assert all(e in every for e in some)


def _library_reports(items: list[dict], level: str | None) -> set[tuple[str, str]]:
    """The library findings (DOI, statement) the listed items of `level` show."""
    return {(r["doi"], r["statement"]) for i in items if i.get("level") == level and "more" not in i
            for r in i.get("reports", []) if r.get("source") == "library"}


def _left_out_mismatches(summary: dict, full: dict) -> list[str]:
    """Where a count item's `more` is not the number of library findings --all-findings lists beyond the summary's,
    per evidence_detail and level."""
    grades = [(m, summary["mechanisms"][m]["evidence_detail"], full["mechanisms"][m]["evidence_detail"])
              for m in summary["mechanisms"]]
    grades += [(f"{x} {role}", summary["role_evidence"][x][role]["evidence_detail"],
                full["role_evidence"][x][role]["evidence_detail"])
               for x in summary["role_evidence"] for role in summary["role_evidence"][x]]
    out = []
    for where, cut, every in grades:
        for level in ("reported_related", "conflicting", None):
            more = sum(i["more"] for i in cut if i.get("level") == level and "more" in i)
            missing = len(_library_reports(every, level) - _library_reports(cut, level))
            if more != missing:
                out.append(f"{where} {level}: {more} counted, {missing} left out")
    return out


def test_each_count_is_of_distinct_findings_left_out(answers):
    """A count item says how many library findings the summary leaves out: the findings --all-findings lists beyond
    the summary's, each once, however many items they stand behind."""
    assert _left_out_mismatches(answers["consult-summary"], answers["consult-all"]) == []


def test_a_host_finding_behind_several_cations_is_counted_once(own_library: Path):
    """The Joule-heated HEO's conversion in the host (doi:10.26599/nr.2025.94907784, no single element named),
    copied onto 12 related oxides with three of (MgCoNiCuZn)O's cations each: the host items come one per cation
    the candidate shares (rules/85-evidence.toml evidence-reported-related-host), each listing the closest, so
    that a finding cut from one item may stand behind another; the count is of the distinct findings left out
    (it counted one per item before)."""
    import csv

    from click.testing import CliRunner

    import hemkg

    with open(Path(__file__).resolve().parent.parent / "examples" / "findings.csv", newline="",
              encoding="utf-8") as f:
        host = next(r for r in csv.DictReader(f) if r["finding"] == "mechanism_observed" and not r["element"])
    rows = []
    for k in range(12):
        three = [CANDIDATE[(k + j) % 5] for j in range(3)]
        fillers = [FILLERS[(k + j) % len(FILLERS)] for j in range(2)]
        rows.append({**host, "doi": f"10.5555/host.{k:03d}", "formula": f"({''.join(three + fillers)})O",
                     "title": ""})
    own_library.parent.mkdir(parents=True, exist_ok=True)
    write_findings(own_library.parent / "host.csv", rows)
    assert run(CliRunner(), "evidence", "add", str(own_library.parent / "host.csv")).exit_code == 0
    summary = hemkg.consult("(MgCoNiCuZn)O", "Li").to_dict()
    full = hemkg.consult("(MgCoNiCuZn)O", "Li", all_findings=True).to_dict()
    conversion = summary["mechanisms"]["conversion"]["evidence_detail"]
    assert len({i["rule"] for i in conversion if i.get("rule") == "evidence-reported-related-host"}) == 1
    assert sum(1 for i in conversion if i.get("rule") == "evidence-reported-related-host") > 1  # one per cation
    assert len(_library_reports(full["mechanisms"]["conversion"]["evidence_detail"], "reported_related")) == 12
    assert _left_out_mismatches(summary, full) == []


def test_closest_first_orders_by_shared_elements_then_by_doi(rows, tmp_path):
    """said() picks the closest findings from sets of observation numbers held as ints (literature.closest_first):
    the order is that of sorting the observations by the elements their material shares with the candidate, most
    first, then by number (DOI, then finding), for (MgCoNiCuZn)O and for candidates sharing less with the library."""
    from hemkg.consultation import literature
    from hemkg.consultation.findings import read

    contributions = read(write_findings(tmp_path / "related.csv", rows)).contributions
    library = literature.from_contributions(contributions, tmp_path, "test")
    ranked = library.ranked
    assert len(ranked.order) > 2 * RELATED_SHOWN
    for elements in (CANDIDATE, ("Fe", "Mn", "Zn"), ("Mg",), ("Li",)):
        wanted = library.mask(set(elements))

        def shared(n: int, wanted: int = wanted) -> int:
            material = ranked.order[n][1].material
            return bin(library.mask(library.compositions[material]) & wanted).count("1")

        order = [n for level in literature.closest_first(ranked, wanted) for n in literature.numbers(level)]
        assert order == sorted(range(len(ranked.order)), key=lambda n: (-shared(n), n)), elements
        assert literature.numbers(literature.union(ranked.of_material.values()), 3) == [0, 1, 2]


def test_answers_do_not_depend_on_what_the_process_consulted_before(rows, tmp_path):
    """An evidence item over gathered reports is kept per library revision under the materials it lists
    (consultation/evidence.py _kept, _members), and a grade under its conclusions and the materials its items list
    (_kept_detail), each shared by every candidate that lists the same: an answer is the same after other
    candidates' consultations as from the library read afresh. (MgCoNiCuZn)O (ref 48, Section 3.1) beside two
    oxides that share Cu, or Mg and Co, with the related materials, whose closest materials differ, and one whose
    Zn conversion is graded from the same conclusions as (CuZnTiAlV)O's, with other closest materials."""
    from hemkg.answers.summary import summarise
    from hemkg.consultation import literature
    from hemkg.consultation.consultation import consult
    from hemkg.consultation.findings import read

    contributions = read(write_findings(tmp_path / "related.csv", rows)).contributions
    candidates = ["(MgCoNiCuZn)O", "(CuZnTiAlV)O", "(MgCoFeMnCr)O", "(MnNbMoZnGa)O"]
    warmed = literature.from_contributions(contributions, tmp_path, "test")
    for formula in candidates:
        summarise(consult(formula, "Li", library=warmed))
    for formula in reversed(candidates):
        for all_findings in (False, True):
            fresh = literature.from_contributions(contributions, tmp_path, "test")
            assert summarise(consult(formula, "Li", library=warmed), all_findings) == \
                summarise(consult(formula, "Li", library=fresh), all_findings), (formula, all_findings)


def test_a_kept_grade_that_cuts_related_materials_follows_the_candidates_elements(rows, tmp_path):
    """A grade whose related-material pairs summarised() cuts to the RELATED_SHOWN closest is kept under the
    candidate's elements too (consultation/evidence.py _kept_detail): the same conclusions graded for a candidate
    with other elements list other closest materials. (MgCoNiCuZn)O (ref 48, Section 3.1) matches the library's
    own contribution, so each related oxide showing Cu conversion is a pair of its own (rules/85-evidence.toml
    evidence-reported-related-beside-here); its conclusions are then graded as if the candidate were (CuFeMnCrTi)O,
    whose closest related oxides are others, first with a library that kept (MgCoNiCuZn)O's grades, then afresh."""
    from dataclasses import replace

    from hemkg.consultation import evidence, literature
    from hemkg.consultation.consultation import consult
    from hemkg.consultation.findings import read
    from hemkg.consultation.formula import parse_formula

    contributions = read(write_findings(tmp_path / "related.csv", rows)).contributions
    warmed = literature.from_contributions(contributions, tmp_path, "test")
    own = consult("(MgCoNiCuZn)O", "Li", library=warmed)
    kept = evidence.graded(own, "role_evidence")
    cut = [i for i in kept["Cu", "conversion"]["evidence_detail"] if i.get("more")]
    assert cut, "the related oxides' pairs are cut: the case this test is about"
    other = parse_formula("(CuFeMnCrTi)O")
    as_other = replace(own, formula=other)
    fresh = literature.from_contributions(contributions, tmp_path, "test")
    afresh = evidence.graded(replace(own, formula=other, library=fresh), "role_evidence")["Cu", "conversion"]
    assert afresh != kept["Cu", "conversion"], "the other elements pick other closest materials"
    assert evidence.graded(as_other, "role_evidence")["Cu", "conversion"] == afresh
