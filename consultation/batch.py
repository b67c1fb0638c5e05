"""Read candidates for `hem consult --input FILE`: one formula per line, or CSV with a header."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

from hemkg.consultation.consultation import Consultation, Structure, consult
from hemkg.consultation.formula import FormulaError
from hemkg.graph.vocab import spoken_list, vocab

MAX_FILE_BYTES = 50_000_000
CSV_FIELDS = {"formula", "ion", *Structure.field_names()}  # a candidate's formula and ion, and its structure


class BatchFileError(ValueError):
    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint


@dataclass
class Candidate:
    line: int
    text: str
    consultation: Consultation | None = None
    error: str | None = None


def _float(value: str, name: str) -> float | None:
    if value.strip() == "":
        return None
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{name} '{value}' is not a number") from None
    if not 0 < number < 1e6:
        raise ValueError(f"{name} must be a positive size in nm, not {value}")
    return number


def _row_candidate(row: dict[str, str], ion: str, default: Structure) -> tuple[str, str, Structure]:
    formula = (row.get("formula") or "").strip()
    row_ion = (row.get("ion") or "").strip() or ion
    ions = vocab().ion_symbols
    if row_ion not in ions:
        raise ValueError(f"ion '{row_ion}' is not {spoken_list(ions, 'or')}")
    flag = (row.get("defect_rich") or "").strip().lower()
    if flag not in ("", "true", "false", "yes", "no", "1", "0"):
        raise ValueError(f"defect_rich '{flag}' is not true/false")
    structure = replace(
        default,
        **{k: v for k, v in {
            "primary_particle_size_nm": _float(row.get("primary_particle_size_nm") or "", "primary_particle_size_nm"),
            "conversion_product_size_nm": _float(row.get("conversion_product_size_nm") or "", "conversion_product_size_nm"),
            "framework": (row.get("framework") or "").strip() or None,
            "morphology": (row.get("morphology") or "").strip() or None,
            "defect_rich": flag in ("true", "yes", "1") or None,
        }.items() if v is not None},
    )
    return formula, row_ion, structure.validated()


def read_candidates(path: Path, ion: str, default: Structure) -> Iterator[Candidate]:
    """Consult each candidate of the file in order; errors are attached to their line, not raised."""
    if not path.is_file():
        raise BatchFileError(f"no file '{path}'", "give the path of a text or CSV file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise BatchFileError(f"'{path}' is larger than {MAX_FILE_BYTES // 1_000_000} MB", "split it into smaller files")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise BatchFileError(f"'{path}' is not UTF-8 text (byte {err.start})", "save it as UTF-8 text or CSV") from None
    lines = text.splitlines()
    first = next((l for l in lines if l.strip() and not l.lstrip().startswith("#")), "")
    is_csv = "formula" in [h.strip().lower() for h in first.split(",")]
    return _csv_candidates(text, ion, default) if is_csv else _plain_candidates(lines, ion, default)


def _plain_candidates(lines: list[str], ion: str, default: Structure) -> Iterator[Candidate]:
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        yield _one(number, text, text, ion, default)


def _csv_candidates(text: str, ion: str, default: Structure) -> Iterator[Candidate]:
    reader = csv.DictReader(io.StringIO(text))
    fields = {f.strip().lower() for f in reader.fieldnames or []}
    unknown = fields - CSV_FIELDS
    if unknown:
        raise BatchFileError(f"unknown CSV column(s): {', '.join(sorted(unknown))}", f"columns may be {', '.join(sorted(CSV_FIELDS))}")
    for row in reader:
        line = reader.line_num
        if None in row:  # DictReader keeps fields beyond the header under None
            yield Candidate(line, ",".join(str(v) for v in row.values()), error="more fields than the header has columns")
            continue
        row = {(k or "").strip().lower(): (v or "") for k, v in row.items()}
        try:
            formula, row_ion, structure = _row_candidate(row, ion, default)
        except ValueError as err:
            yield Candidate(line, ",".join(row.values()), error=str(err))
            continue
        yield _one(line, formula, formula, row_ion, structure)


def _one(line: int, text: str, formula: str, ion: str, structure: Structure) -> Candidate:
    try:
        return Candidate(line, text, consultation=consult(formula, ion, structure))
    except (FormulaError, ValueError) as err:
        return Candidate(line, text, error=str(err))
