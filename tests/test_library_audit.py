"""The library against the paper (issue 13): hem describe TERM with findings, hem evidence conflicts, hem evaluate.

The library is examples/findings.csv (real primary papers the perspective does
not cite). Expectations are derived from its rows and from the paper's Fig. 6a
planes (graph/vocab.py), not copied from the output:

- doi:10.26599/nr.2025.94907784 (Fe0.2Co0.2Ni0.2Cu0.2Zn0.2O, Li): "ZnO serves
  as an electrochemically inactive structural stabilizer"; Fig. 6a puts Zn on
  Plane A (conversion) and Plane B (alloying), so the finding contradicts the
  planes. Its Cu finding ("Cu2+ is difficult to oxidize back ... once reduced to
  Cu0": Cu seen in conversion) agrees with Plane A.
- doi:10.1039/d4ee01329h (ZnGeSiP3, Li): "via intercalation and subsequent
  conversion reactions"; the abstract names no alloying, although Zn, Ge and Si
  stand on Plane B: silence, listed apart from contradictions.
- doi:10.1039/d0ra00255k and doi:10.3390/inorganics12070198: performance
  findings only, compared with no rule.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from conftest import assert_one_line_error, run

from hemkg.graph.vocab import json_key, vocab

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "findings.csv"
JOULE_HEO = "10.26599/nr.2025.94907784"
ZNGESIP3 = "10.1039/d4ee01329h"
SPINEL_MG_TI = "10.1039/d0ra00255k"
SPINEL_CR_MN = "10.3390/inorganics12070198"
PAPER = "Energy Environ. Sci. 2025, 18, 10286"
STRUCTURAL = ("stabilizer", "inactive")
# A constructed row, no real finding: the same material as doi:10.26599/nr.2025.94907784 with Zn seen converting.
# 10.5555 is the DOI prefix Crossref keeps for examples.
CONTRARY_DOI = "10.5555/hemkg-test-contrary"


@pytest.fixture(autouse=True)
def library_dir(own_library: Path) -> Path:
    return own_library


def rows() -> list[dict[str, str]]:
    with EXAMPLES.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def planes_of(symbol: str) -> dict[str, str]:
    """Fig. 6a: plane name -> the mechanism it enables, for the planes holding `symbol`."""
    return {p.name: p.mechanism for p in vocab().planes if symbol in p.members}


def add(runner, path: Path) -> None:
    result = run(runner, "evidence", "add", str(path))
    assert result.exit_code == 0, result.stderr


def as_json(runner, *args: str) -> dict:
    result = run(runner, *args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_conflicts_with_the_planes(runner) -> None:
    """doi:10.26599/nr.2025.94907784: Zn a stabilizer where Fig. 6a puts it on Plane A and B. Every anode element_role
    row with a structural role for an element on a plane of Fig. 6a is a conflict with the paper, citing the rule
    with the paper's references and Fig. 6a; the Cu conversion finding (Cu on Plane A) is none."""
    add(runner, EXAMPLES)
    answer = as_json(runner, "evidence", "conflicts")
    expected = {(r["doi"], r["element"], r["role"]) for r in rows()
                if r["electrode"] == "anode" and r["finding"] == "element_role" and r["role"] in STRUCTURAL
                and planes_of(r["element"])}
    assert expected == {(JOULE_HEO, "Zn", "stabilizer")}  # the example file holds this one
    found = {(c["finding"]["doi"], c["finding"]["element"], c["finding"]["role"]) for c in answer["with_paper"]}
    assert found == expected
    zn = answer["with_paper"][0]
    assert zn["planes"] == sorted(planes_of("Zn"))
    assert set(zn["plane_mechanisms"]) == {json_key(m) for m in planes_of("Zn").values()}
    assert zn["finding"]["quote"].startswith("ZnO serves as an electrochemically inactive structural stabilizer")
    contradicted = {c["rule"]: c for c in zn["contradicts"]}
    assert "Fig. 6a" in contradicted["plane-cation"]["location"]
    assert contradicted["plane-cation"]["citation"].startswith(PAPER + ", refs ")
    # a rule that takes the finding in (a report outranks the planes) is not one it contradicts
    assert "report-outranks-plane" not in contradicted
    # graded by the same evidence rules: Zn is the only Plane B cation of the formula, so the stabilizer report on
    # the very material contradicts alloying here; Zn's roles of its planes are contradicted_here, its stabilizer
    # role reported_here
    plane_b = [s for s in ("Fe", "Co", "Ni", "Cu", "Zn") if s in vocab().plane("B").members]
    assert plane_b == ["Zn"]
    assert zn["graded_with_library"]["mechanisms"]["alloying"] == "contradicted_here"
    assert zn["graded_with_library"]["roles"] == {"stabilizer": "reported_here",
                                                  **{json_key(m): "contradicted_here" for m in planes_of("Zn").values()}}
    seen_cu = [c for c in answer["with_paper"] if c["finding"].get("element") == "Cu"]
    assert not seen_cu and "Cu" in vocab().plane("A").members


def test_conflicts_text_names_both_citations(runner) -> None:
    """The text of hem evidence conflicts: the finding's DOI (doi:10.26599/nr.2025.94907784) and its quote beside the
    paper's rule with "Energy Environ. Sci. 2025, 18, 10286, ref(s) N"."""
    add(runner, EXAMPLES)
    result = run(runner, "evidence", "conflicts")
    assert result.exit_code == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert f"doi:{JOULE_HEO}" in text and "structural stabilizer" in text
    assert "contradicts plane-cation" in text and f"{PAPER}, refs" in text


def test_silence_is_listed_apart(runner) -> None:
    """doi:10.1039/d4ee01329h names intercalation and conversion for ZnGeSiP3, not alloying; its Zn, Ge and Si stand
    on Fig. 6a's Plane B (alloying). Listed under not_named (silence, not a contradiction), never under with_paper."""
    add(runner, EXAMPLES)
    answer = as_json(runner, "evidence", "conflicts")
    named = {r["mechanism"] for r in rows() if r["doi"] == ZNGESIP3 and r["mechanism"]}
    alloying_plane = next(p for p in vocab().planes if p.name == "B")
    unnamed = {json_key(alloying_plane.mechanism)} - named
    found = [n for n in answer["not_named"] if n["doi"] == ZNGESIP3]
    assert {n["mechanism"] for n in found} == unnamed
    assert set(found[0]["elements"]) == {"Zn", "Ge", "Si"} & set(alloying_plane.members)
    assert sorted(found[0]["named"]) == sorted(named)
    assert all(c["finding"]["doi"] != ZNGESIP3 for c in answer["with_paper"])


def test_conflicts_between_findings(runner, tmp_path: Path) -> None:
    """Two findings on the same material and ion with opposite facts: doi:10.26599/nr.2025.94907784 calls Zn in
    Fe0.2Co0.2Ni0.2Cu0.2Zn0.2O a stabilizer (not converting), a constructed row (doi:10.5555/hemkg-test-contrary, no
    real paper) says it converts. Without that row the example file holds no such pair."""
    add(runner, EXAMPLES)
    assert as_json(runner, "evidence", "conflicts")["between_findings"] == []
    contrary = tmp_path / "contrary.csv"
    header = list(rows()[0])
    row = {k: "" for k in header} | {
        "doi": CONTRARY_DOI, "formula": "Fe0.2Co0.2Ni0.2Cu0.2Zn0.2O", "ion": "Li", "electrode": "anode",
        "finding": "element_role", "element": "Zn", "role": "conversion", "evidence_level": "abstract",
        "quote": "a constructed finding for this test"}
    with contrary.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerow(row)
    add(runner, contrary)
    pairs = as_json(runner, "evidence", "conflicts")["between_findings"]
    assert [(p["about"], p["mechanism"], p["ion"], p["same_material"], p["observed"]["doi"], p["not_observed"]["doi"])
            for p in pairs] == [("Zn", "conversion", "Li", True, CONTRARY_DOI, JOULE_HEO)]


def expected_evaluation() -> dict[str, dict[str, dict[str, int]]]:
    """The tables evaluate should give, from the rows: a mechanism seen, with an element, agrees where Fig. 6a puts
    the element on the plane of that mechanism; seen by the material as a whole, where the paper's consultation
    (hem consult --no-library --json, the JSON answer) finds it accessible; a structural role of an element on a
    plane disagrees (the planes give it their mechanisms)."""
    from hemkg.answers.summary import summarise
    from hemkg.consultation.consultation import consult

    tables: dict[str, dict[str, dict[str, int]]] = {"by_mechanism": {}, "by_role": {}}
    for r in rows():
        if r["electrode"] != "anode" or r["finding"] == "performance":
            continue
        if r["finding"] == "element_role":
            assert r["role"] in STRUCTURAL and planes_of(r["element"])  # what the example file holds
            verdict, table, key = "disagree", "by_role", r["role"]
        else:
            status = summarise(consult(r["formula"], r["ion"]))["mechanisms"][r["mechanism"]]["status"]
            planes = planes_of(r["element"]) if r["element"] else None
            seen = (status == "accessible" and (planes is None or json_key(r["mechanism"]) in
                                                {json_key(m) for m in planes.values()}))
            verdict, table, key = "agree" if seen else "disagree", "by_mechanism", r["mechanism"]
        tally = tables[table].setdefault(key, {"agree": 0, "disagree": 0, "not_predicted": 0})
        tally[verdict] += 1
    return tables


def test_evaluate_tables(runner) -> None:
    """hem evaluate over the example file: doi:10.26599/nr.2025.94907784's conversion (the material; Cu) and
    doi:10.1039/d4ee01329h's intercalation and conversion agree; its Zn stabilizer disagrees with Fig. 6a.
    doi:10.1039/d0ra00255k and doi:10.3390/inorganics12070198 report performance only: not compared."""
    add(runner, EXAMPLES)
    answer = as_json(runner, "evaluate")
    expected = expected_evaluation()
    assert answer["by_mechanism"] == expected["by_mechanism"]
    assert answer["by_role"] == expected["by_role"]
    assert answer["compared"] == sum(sum(t.values()) for table in expected.values() for t in table.values())
    assert {r["finding"]["doi"] for r in answer["findings"]} == {JOULE_HEO, ZNGESIP3}
    assert SPINEL_MG_TI not in json.dumps(answer) and SPINEL_CR_MN not in json.dumps(answer)
    [wrong] = answer["disagreements"]
    assert (wrong["finding"]["doi"], wrong["finding"]["element"]) == (JOULE_HEO, "Zn")
    assert set(wrong["prediction"]["roles"]) == {json_key(m) for m in planes_of("Zn").values()}
    seen = sum(t["agree"] for t in expected["by_mechanism"].values())
    s = answer["status_prediction"]
    assert (s["true_positive"], s["false_negative"], s["precision"], s["recall"]) == (seen, 0, 1.0, 1.0)
    text = run(runner, "evaluate").stdout
    assert "not predicted" in text and "Disagreements" in text and f"doi:{JOULE_HEO}" in text


def test_describe_lists_the_library(runner) -> None:
    """hem describe Zn: the paper's statements (Fig. 6a, Plane A and B) and then "What your library says about
    zinc": doi:10.26599/nr.2025.94907784's Zn stabilizer first, disagreeing with plane-cation, which rests on the
    statement that Plane B enables alloying; findings on materials with Zn follow (doi:10.1039/d4ee01329h)."""
    add(runner, EXAMPLES)
    answer = as_json(runner, "describe", "Zn")
    assert answer["groups"]  # the paper's statements are still there
    first = answer["library"][0]
    assert (first["doi"], first["element"], first["via"], first["verdict"]) == (JOULE_HEO, "Zn", "element",
                                                                                "disagrees")
    bears = {b["rule"]: b for b in first["bears_on"]}
    assert "stmt-plane-B-enables-alloying" in bears["plane-cation"]["rests_on"]
    dois = {r["doi"] for r in answer["library"]}
    zn_rows = {r["doi"] for r in rows() if "Zn" in r["formula"]}
    assert dois == zn_rows
    text = run(runner, "describe", "Zn").stdout
    assert "What your library says about zinc" in text and f"doi:{JOULE_HEO}" in text
    assert "disagrees with the paper" in " ".join(text.split())
    assert "library" not in as_json(runner, "describe", "Zn", "--no-library")


def test_describe_mechanism_lists_its_findings(runner) -> None:
    """hem describe conversion: the findings of conversion seen (doi:10.26599/nr.2025.94907784, the material and Cu;
    doi:10.1039/d4ee01329h), each agreeing with the paper."""
    add(runner, EXAMPLES)
    records = as_json(runner, "describe", "conversion")["library"]
    expected = sorted((r["doi"], r["element"]) for r in rows() if r["mechanism"] == "conversion")
    assert sorted((r["doi"], r.get("element", "")) for r in records) == expected
    assert {r["verdict"] for r in records} == {"agrees"}


def test_audit_errors(runner, own_library: Path) -> None:
    """No findings: hem evaluate and hem evidence conflicts end with one error line and a hint, exit 2; describe takes
    --library DIR or --no-library, not both."""
    for args in (("evaluate",), ("evidence", "conflicts")):
        line = assert_one_line_error(run(runner, *args))
        assert "holds no findings" in line
    assert "not both" in assert_one_line_error(run(runner, "describe", "Zn", "--library", str(own_library),
                                                    "--no-library"))


def test_conflicts_and_evaluate_name_the_same_disagreements(runner, tmp_path: Path) -> None:
    """A constructed row (doi:10.5555/hemkg-test-unseen, no real paper): alloying not seen in (MgCoNiCuZn)O as a
    whole, which no evidence rule takes in; Fig. 6a's Plane B holds its Zn, so the rules make alloying accessible.
    hem evaluate counts it a disagreement, and hem evidence conflicts lists it too, judged by the same prediction,
    beside doi:10.26599/nr.2025.94907784's Zn stabilizer."""
    add(runner, EXAMPLES)
    unseen = tmp_path / "unseen.csv"
    header = list(rows()[0])
    with unseen.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerow({k: "" for k in header} | {
            "doi": "10.5555/hemkg-test-unseen", "formula": "Mg0.2Co0.2Ni0.2Cu0.2Zn0.2O", "ion": "Li",
            "electrode": "anode", "finding": "mechanism_not_observed", "mechanism": "alloying",
            "evidence_level": "abstract", "quote": "a constructed finding for this test"})
    add(runner, unseen)
    with_paper = as_json(runner, "evidence", "conflicts")["with_paper"]
    disagreements = as_json(runner, "evaluate")["disagreements"]
    assert {c["finding"]["id"] for c in with_paper} == {r["finding"]["id"] for r in disagreements}
    assert sorted(c["finding"]["doi"] for c in with_paper) == sorted(["10.5555/hemkg-test-unseen", JOULE_HEO])
    assert "Zn" in vocab().plane("B").members
