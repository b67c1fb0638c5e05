"""The paper's 98 references: records, duplicates and the 'Lun et al.76' slip (SOURCE_NOTES.md, References)."""

from __future__ import annotations

import pytest

from hemkg.graph import statements as knowledge

DUPLICATES = [(10, 16), (20, 52), (57, 72), (70, 95), (74, 88)]


def test_ninety_eight_numbered_references():
    """The reference list runs 1 to 98 and every record has its citation text."""
    refs = knowledge.references()
    assert sorted(refs) == list(range(1, 99))
    assert all(len(r["citation"]) > 20 for r in refs.values())


@pytest.mark.parametrize("n, first_author, journal", [
    (41, "X. Liu", "Adv. Mater."), (47, "W. Li", "Adv. Mater."), (57, "Q. Li", "Nat. Mater."),
    (73, "K. Zheng", "Adv. Sci."), (75, "Z. Lun", "Nat. Mater."), (76, "Y. Liu", "Adv. Funct. Mater."),
])
def test_reference_record(n, first_author, journal):
    """Spot checks against the printed list."""
    ref = knowledge.references()[n]
    assert ref["citation"].startswith(first_author)
    assert journal in ref["label"]


@pytest.mark.parametrize("a, b", DUPLICATES)
def test_duplicate_pairs_are_recorded(a, b):
    """The list prints the same work twice: 20 = 52, 57 = 72, 70 = 95, 74 = 88, and 10 / 16."""
    refs = knowledge.references()
    assert b in refs[a].get("duplicates", []) or a in refs[b].get("duplicates", [])


def test_no_other_duplicates_are_claimed():
    pairs = {tuple(sorted((n, d))) for n, r in knowledge.references().items() for d in r.get("duplicates", [])}
    assert pairs == set(DUPLICATES)


def test_lun_citation_slip_is_recorded_not_hidden():
    """Section 3.1 cites 'Lun et al.76', but ref 76 is by Y. Liu et al. (Lun is ref 75)."""
    refs = knowledge.references()
    assert "Liu" in refs[76]["citation"].split(",")[0]
    assert "Lun" in refs[76]["slip"] and "75" in refs[76]["slip"]
    assert refs[75]["citation"].startswith("Z. Lun")
