"""Consultations use the literature library (issue 13): findings are graded by the paper's own evidence rules.

Every test works on a library of its own in a temporary folder (HEMKG_LIBRARY),
filled with `hem evidence add` from examples/findings.csv: findings of real
primary papers the perspective does not cite, each with its DOI and the words of
its abstract. The perspective's Fig. 6a puts Zn on Plane A (conversion) and
Plane B (alloying); a report on the very material outranks the planes
(rules/85-evidence.toml, report-outranks-plane), for the paper's reports
(ref 41, (LiFeZnNiCoMn)3O4) and for the library's alike.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from conftest import assert_one_line_error, run

from hemkg.answers.summary import summarise
from hemkg.consultation import literature
from hemkg.consultation.consultation import consult
from hemkg.library.findings import COLUMNS

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "findings.csv"
# Joule-heated rock-salt HEO, Nano Research 2025: "ZnO serves as an electrochemically inactive structural stabilizer
# that maintains the rock-salt framework"; "Cu2+ is difficult to oxidize back to its original state once reduced to
# Cu0"; "was applied to LIBs for the first time as a conversion-type anode material".
JOULE_HEO = "10.26599/nr.2025.94907784"
ZN_QUOTE = "ZnO serves as an electrochemically inactive structural stabilizer that maintains the rock-salt framework"
CANDIDATE = "(FeCoNiCuZn)O"  # read as Fe0.2Co0.2Ni0.2Cu0.2Zn0.2O, the Joule-heated HEO's composition


@pytest.fixture(autouse=True)
def library_dir(own_library: Path) -> Path:
    """Each test's own library (conftest.py own_library)."""
    return own_library


def add(runner, path: Path) -> None:
    result = run(runner, "evidence", "add", str(path))
    assert result.exit_code == 0, result.stderr


def consulted(runner, *args: str) -> dict:
    result = run(runner, "consult", CANDIDATE, "--ion", "Li", "--json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def zn_stabilizer_reports(answer: dict) -> list[dict]:
    detail = answer["role_evidence"]["Zn"].get("stabilizer", {}).get("evidence_detail", [])
    return [r for item in detail if item["level"] == "reported_here" for r in item.get("reports", [])]


def test_library_stabilizer_outranks_planes(runner) -> None:
    """doi:10.26599/nr.2025.94907784 (abstract): "ZnO serves as an electrochemically inactive structural stabilizer
    that maintains the rock-salt framework". Consulting (FeCoNiCuZn)O with Li, the material itself, Zn becomes a
    stabilizer reported_here from that DOI, and Fig. 6a's Plane A (conversion) and Plane B (alloying) no longer give
    it a role: the report outranks the planes, as the paper's own ref 41 does for (LiFeZnNiCoMn)3O4."""
    add(runner, EXAMPLES)
    answer = consulted(runner)
    assert answer["roles"]["Zn"] == ["stabilizer"]
    assert answer["role_evidence"]["Zn"]["stabilizer"]["evidence"] == "reported_here"
    reports = zn_stabilizer_reports(answer)
    assert reports and all(r["source"] == "library" and r["doi"] == JOULE_HEO for r in reports)
    assert reports[0]["quote"] == ZN_QUOTE and reports[0]["evidence_level"] == "abstract"
    outranked = [n for n in answer["notes"] if "report-outranks-plane" in n["rules"]]
    assert outranked and all(JOULE_HEO in n["text"] for n in outranked)
    # the note names the library, not the paper, as where this composition is reported
    same = [n for n in answer["notes"] if n["topic"] in ("reported-material", "library-material")]
    assert [n["rules"] for n in same] == [["context-same-composition-library"]]


def test_library_section_lists_the_disagreement(runner) -> None:
    """The section "What your library says": the Zn stabilizer finding (doi:10.26599/nr.2025.94907784) disagrees with
    the planes (Fig. 6a puts Zn on Plane A and B), and names the rule it bears on; the Cu conversion finding
    ("Cu2+ is difficult to oxidize back ... once reduced to Cu0") agrees with Plane A's conversion."""
    add(runner, EXAMPLES)
    said = consulted(runner)["library"]
    zn = [s for s in said if s.get("element") == "Zn"]
    assert len(zn) == 1 and zn[0]["verdict"] == "disagrees"
    assert zn[0]["doi"] == JOULE_HEO and zn[0]["quote"] == ZN_QUOTE and zn[0]["evidence_level"] == "abstract"
    assert zn[0]["planes"] == ["A", "B"] and zn[0]["rule"] == "plane-cation"
    cu = [s for s in said if s.get("element") == "Cu"]
    assert [s["verdict"] for s in cu] == ["agrees"]
    text = run(runner, "consult", CANDIDATE, "--ion", "Li").stdout
    assert "What your library says" in text
    assert f"disagrees: in Fe0.2Co0.2Ni0.2Cu0.2Zn0.2O (doi:{JOULE_HEO}), Zn was not" in " ".join(text.split())


def test_a_host_finding_on_a_related_material_is_said_to_agree(runner) -> None:
    """doi:10.26599/nr.2025.94907784 (abstract): the Joule-heated HEO "was applied to LIBs for the first time as a
    conversion-type anode material", a finding on the host. For (FeCoNiMgZn)O, a related rock-salt HEM sharing four
    of its cations (not the material itself), it is evidence of conversion in a related material, and "What your
    library says" lists it as agreeing with the paper's conversion status (Plane A, Fig. 6a)."""
    add(runner, EXAMPLES)
    result = run(runner, "consult", "(FeCoNiMgZn)O", "--ion", "Li", "--json")
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    host = [e for e in answer["library"] if e.get("doi") == JOULE_HEO and "element" not in e]
    assert [(e["verdict"], e["mechanism"], e["this_material"]) for e in host] == [("agrees", "conversion", False)]
    related = [r for i in answer["mechanisms"]["conversion"]["evidence_detail"] if i["level"] == "reported_related"
               for r in i.get("reports", []) if r.get("doi") == JOULE_HEO]
    assert related, answer["mechanisms"]["conversion"]["evidence_detail"]


def test_no_library_gives_the_papers_answer(runner) -> None:
    """--no-library consults the paper alone: Zn converts and alloys (Fig. 6a, Plane A and B), with the paper's
    evidence only, exactly as with no library at all."""
    without = consulted(runner)  # no library folder yet
    add(runner, EXAMPLES)
    paper_alone = consulted(runner, "--no-library")
    assert paper_alone == without
    assert "library" not in paper_alone and sorted(paper_alone["roles"]["Zn"]) == ["alloying", "conversion"]
    assert consulted(runner) != without


def test_empty_library_changes_nothing(runner, library_dir: Path) -> None:
    """An empty library folder, or a library whose every finding was retracted (hem evidence remove), gives the
    answer of no library: no `library` section, the paper's roles for Zn (Fig. 6a)."""
    without = consulted(runner)
    library_dir.mkdir()
    assert consulted(runner) == without
    add(runner, EXAMPLES)
    for doi in (JOULE_HEO, "10.1039/d4ee01329h", "10.1039/d0ra00255k", "10.3390/inorganics12070198"):
        assert run(runner, "evidence", "remove", doi).exit_code == 0
    assert consulted(runner) == without


def test_cathode_finding_is_never_used(runner, tmp_path: Path) -> None:
    """A cathode finding is kept but never used for an anode consultation. The file is the Zn stabilizer row of
    doi:10.26599/nr.2025.94907784 with its electrode changed to cathode: a test fixture, not a finding of that
    paper (which reports an anode)."""
    with open(EXAMPLES, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["doi"] == JOULE_HEO and r["element"] == "Zn"]
    rows[0]["electrode"] = "cathode"
    path = tmp_path / "cathode.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    without = consulted(runner, "--no-library")
    add(runner, path)
    assert run(runner, "evidence", "list").stdout.count(JOULE_HEO) == 1  # kept in the library
    assert consulted(runner) == without


def test_explain_shows_the_finding_with_its_doi(runner) -> None:
    """hem explain --about Zn shows the library finding as a premise, with its DOI and quote
    (doi:10.26599/nr.2025.94907784: "ZnO serves as an electrochemically inactive structural stabilizer ...")."""
    add(runner, EXAMPLES)
    result = run(runner, "explain", CANDIDATE, "--about", "Zn", "--json")
    assert result.exit_code == 0, result.stderr
    records = [f for c in json.loads(result.stdout)["conclusions"] for f in c.get("other_facts", [])
               if f.get("doi") == JOULE_HEO]
    assert any(r["text"] == f"in Fe0.2Co0.2Ni0.2Cu0.2Zn0.2O (doi:{JOULE_HEO}), Zn was not seen in conversion"
               and r["quote"] == ZN_QUOTE for r in records)
    text = " ".join(run(runner, "explain", CANDIDATE, "--about", "Zn").stdout.split())
    assert f"From your library: in Fe0.2Co0.2Ni0.2Cu0.2Zn0.2O (doi:{JOULE_HEO}), Zn was not seen in conversion" in text


def test_full_explanation_names_a_library_premise_as_your_library(runner) -> None:
    """hem explain --full walks the whole tree, down to the library's finding on Fe0.2Co0.2Ni0.2Cu0.2Zn0.2O
    (doi:10.26599/nr.2025.94907784) that makes Zn a stabilizer there: that leaf says it comes from your library,
    as the short form does (it used to stop the command with a KeyError)."""
    add(runner, EXAMPLES)
    result = run(runner, "explain", CANDIDATE, "--about", "Zn", "--full")
    assert result.exit_code == 0, result.stderr
    assert "(your library)" in result.stdout and JOULE_HEO in " ".join(result.stdout.split())


def test_damaged_library_is_an_error(runner, library_dir: Path) -> None:
    """A library whose library.json cannot be read is a one-line error with exit 2, never a traceback; the
    --no-library consultation still answers from the paper."""
    add(runner, EXAMPLES)
    (library_dir / "library.json").write_text("{ not json", encoding="utf-8")
    message = assert_one_line_error(run(runner, "consult", CANDIDATE))
    assert "damaged" in message
    assert run(runner, "consult", CANDIDATE, "--no-library").exit_code == 0


def test_paper_reports_say_paper() -> None:
    """The paper's own reports in evidence_detail carry source "paper" (ref 41: in (LiFeZnNiCoMn)3O4, Zn is
    structural and does not convert, Section 3.1)."""
    answer = summarise(consult("(LiFeZnNiCoMn)3O4", "Li"))
    reports = zn_stabilizer_reports(answer)
    assert reports and {r["source"] for r in reports} == {"paper"}


def test_contribution_names_are_stable(tmp_path: Path) -> None:
    """A contribution's material name depends on its DOI and formula only (issue 13: stable per DOI+formula), so
    the same findings read twice give the same facts."""
    from hemkg.consultation.findings import read

    batch = read(EXAMPLES)
    first = literature.from_contributions(batch.contributions, tmp_path, "a")
    second = literature.from_contributions(list(reversed(read(EXAMPLES).contributions)), tmp_path, "b")
    assert set(first.facts) == set(second.facts) and first.facts


def test_a_related_material_beside_this_very_one_is_related_and_this_one_is_not(runner, library_dir) -> None:
    """rules/85-evidence.toml: a report on the very material is evidence of its own, never "related". The Joule-heated
    HEO (doi:10.26599/nr.2025.94907784) shows conversion in the host and finds Zn a stabilizer; consulting its own
    composition with only examples/findings.csv, nothing is reported_related from it: no host report is related,
    and Zn is structural in a related material only in ref 41's (LiFeZnNiCoMn)3O4 (Section 3.1). Its findings
    copied onto a related rock-salt oxide sharing four cations (a DOI of its own) make that oxide related too:
    beside the report on this very material, one by one."""
    add(runner, EXAMPLES)
    alone = consulted(runner)

    def related(answer: dict) -> tuple[list[dict], list[dict]]:
        host = [i for i in answer["mechanisms"]["conversion"]["evidence_detail"] if i["level"] == "reported_related"
                and i["rule"].startswith("evidence-reported-related-host")]
        zn = [i for i in answer["role_evidence"]["Zn"]["stabilizer"]["evidence_detail"]
              if i["level"] == "reported_related" and i["rule"].startswith("stabilizer-reported-related")]
        return host, zn

    ref_41 = "(LiFeZnNiCoMn)3O4"
    host, zn = related(alone)
    assert host == [] and [i["materials"] for i in zn] == [[ref_41]]
    with open(EXAMPLES, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["doi"] == JOULE_HEO and r["finding"] != "performance"
                and r["element"] != "Cu"]  # the host conversion and the Zn stabilizer findings: the oxide has no Cu
    other = "Fe0.2Co0.2Ni0.2Mg0.2Zn0.2O"
    path = library_dir.parent / "related.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows({**r, "doi": "10.5555/related.rock-salt", "formula": other, "title": ""} for r in rows)
    add(runner, path)
    host, zn = related(consulted(runner))
    assert {i["rule"] for i in host} == {"evidence-reported-related-host-beside-here"}
    assert {i["rule"] for i in zn} == {"stabilizer-reported-related-beside-here"}
    assert sorted(m.split(" (doi:")[0] for i in zn for m in i["materials"]) == sorted([other, ref_41])
    for item in host + [i for i in zn if i["materials"] != [ref_41]]:
        assert [m.split(" (doi:")[0] for m in item["materials"]] == [other], item
        assert all(r["doi"] == "10.5555/related.rock-salt" for r in item["reports"]), item


def test_the_capacity_follows_the_library_in_one_process(runner, library_dir: Path) -> None:
    """With doi:10.26599/nr.2025.94907784's Zn stabilizer finding, (FeCoNiCuZn)O's alloying is no longer accessible
    (the report outranks Fig. 6a's Plane B), so its theoretical capacity counts no alloying (Section 2.4's capacity,
    eqn 2): consulted in one process before and after, without and with the library, each answer has its own."""
    add(runner, EXAMPLES)
    library = literature.load(library_dir)
    plain, informed = (consult(CANDIDATE, "Li", library=lib) for lib in (None, library))
    for _ in range(2):  # and again, in the other order
        capacity = plain.estimates["theoretical_capacity"]
        assert plain.status("alloying") == "accessible" and capacity["alloying"] > 0
        assert informed.status("alloying") == "not-accessible"
        assert informed.estimates["theoretical_capacity"]["alloying"] == 0.0
        assert informed.estimates["theoretical_capacity"]["total"] < capacity["total"]
        informed, plain = (consult(CANDIDATE, "Li", library=lib) for lib in (library, None))


def test_an_item_resting_on_library_findings_alone_cites_no_reference_of_the_paper(runner) -> None:
    """A library finding names its paper by DOI, not by a reference number of the perspective
    (consultation/evidence.py _Cites): an evidence item whose reports are all the library's cites no reference,
    neither the rule's nor those of the knowledge-graph facts it rests on. The Joule-heated HEO
    (doi:10.26599/nr.2025.94907784) on its own composition (reported here, contradicted here) and, gathered with
    other materials' reports, on (MgCoNiCuZn)O's (ref 48, Section 3.1) related host."""
    add(runner, EXAMPLES)
    rules_seen = set()
    for candidate in (CANDIDATE, "(MgCoNiCuZn)O"):
        done = run(runner, "consult", candidate, "--ion", "Li", "--json")
        assert done.exit_code == 0, done.stderr
        for mechanism in json.loads(done.stdout)["mechanisms"].values():
            for item in mechanism["evidence_detail"]:
                reports = item.get("reports", [])
                if reports and all(r["source"] == "library" for r in reports):
                    assert item["references"] == [], (candidate, item["rule"])
                    rules_seen.add(item["rule"])
    assert {"evidence-reported-here", "evidence-contradicted-here", "evidence-reported-related-host"} <= rules_seen
