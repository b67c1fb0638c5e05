"""What the Python API takes as a candidate, an ion, a structure and a library, turned into what consult() takes.

A candidate is a formula string (read as `hem consult` reads it), a mapping of
element symbol to amount, or a pymatgen `Composition`. pymatgen is never
imported here: a Composition is recognised by its class's module and name.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping
from numbers import Real
from typing import TYPE_CHECKING, Any

from hemkg.errors import CompositionWarning, InputError, InputTypeError

if TYPE_CHECKING:
    from hemkg.consultation.consultation import Structure
    from hemkg.consultation.literature import LibraryFindings

CANDIDATE_HINT = ("give a formula such as '(MgCoNiCuZn)O', a mapping such as {'Fe': 3, 'O': 4}, "
                  "or a pymatgen Composition")


def is_composition(value: object) -> bool:
    """Whether `value` is a pymatgen Composition (checked by its class, without importing pymatgen)."""
    cls = type(value)
    return (cls.__module__.split(".")[0] == "pymatgen" and cls.__name__ == "Composition"
            and callable(getattr(value, "get_el_amt_dict", None)))


def amount_text(amount: float) -> str:
    """An amount as a formula writes it: '' for 1, '0.2', '3' (never '1e-07' or '0.6000000000000001')."""
    if amount == 1:
        return ""
    return f"{round(amount, 6):f}".rstrip("0").rstrip(".")


def formula_from_amounts(amounts: Mapping[Any, Any], what: str) -> str:
    """{'Fe': 3, 'O': 4} -> 'Fe3O4', each amount checked: InputTypeError for a key or amount of the wrong type,
    InputError for an amount that is not a positive finite number."""
    if not amounts:
        raise InputError(f"the {what} holds no element", CANDIDATE_HINT)
    parts = []
    for symbol, amount in amounts.items():
        if not isinstance(symbol, str):
            raise InputTypeError(f"the {what}'s keys must be element symbols (str), not {type(symbol).__name__} "
                                 f"{symbol!r}", CANDIDATE_HINT)
        if isinstance(amount, bool) or not isinstance(amount, Real):
            raise InputTypeError(f"the amount of {symbol} must be a number, not {type(amount).__name__} {amount!r}",
                                 "give atoms per formula unit, e.g. {'Fe': 3, 'O': 4}")
        if not math.isfinite(amount) or amount <= 0:
            raise InputError(f"the amount of {symbol} must be a positive number, not {amount!r}",
                             "give atoms per formula unit, e.g. {'Fe': 3, 'O': 4}")
        if not amount_text(float(amount)) and amount != 1:
            raise InputError(f"the amount of {symbol} ({amount!r}) rounds to nothing at six decimals",
                             "give atoms per formula unit, e.g. {'Fe': 3, 'O': 4}")
        parts.append(symbol.strip() + amount_text(float(amount)))
    return "".join(parts)


def formula_of(candidate: object) -> str:
    """The formula text consult() reads for a candidate (see the module's docstring); a Composition whose amounts
    the HEM bracket convention would read differently gives a CompositionWarning (bracket_reading)."""
    if isinstance(candidate, str):
        return candidate
    if is_composition(candidate):
        amounts = {str(s): float(a) for s, a in candidate.get_el_amt_dict().items()}  # type: ignore[attr-defined]
        formula = formula_from_amounts(amounts, "Composition")
        differs = bracket_reading(amounts)
        if differs:
            warnings.warn(differs, CompositionWarning, stacklevel=_outside_the_api())
        return formula
    if isinstance(candidate, Mapping):
        return formula_from_amounts(candidate, "mapping")
    raise InputTypeError(f"a candidate cannot be a {type(candidate).__name__}", CANDIDATE_HINT)


def _outside_the_api() -> int:
    """The stacklevel of the first caller outside hemkg.api, for a warning given by this module's caller: the
    warning then names the user's line, whichever call (consult, explain, compare) led here."""
    import sys
    import types

    here = os.path.dirname(os.path.abspath(__file__))
    frame: types.FrameType | None = sys._getframe(2)  # 1: the function that warns
    level = 2
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == here:
        frame, level = frame.f_back, level + 1
    return level


def bracket_reading(amounts: dict[str, float]) -> str | None:
    """Why a Composition's amounts would read differently under the HEM bracket convention, or None.

    pymatgen reads '(MgCoNiCuZn)O' as a group multiplied by its subscript: one of each cation per oxygen. The
    HEM convention (hemkg's, and the paper's) reads the bracket as one cation site the cations share equally:
    Mg0.2Co0.2Ni0.2Cu0.2Zn0.2O. A Composition keeps no brackets, so its shape tells: two or more cations with one
    whole-number amount each are what pymatgen makes of such a bracket, and the same letters written with the
    bracket would mean something else to hemkg.
    """
    from hemkg.consultation.formula import parse_formula
    from hemkg.errors import FormulaError
    from hemkg.graph.vocab import vocab

    formers = vocab().anion_formers
    cations = [s for s in amounts if s not in formers]
    shared = {amounts[s] for s in cations}
    if len(cations) < 2 or len(shared) != 1 or not float(next(iter(shared))).is_integer():
        return None
    each = next(iter(shared))
    bracketed = f"({''.join(cations)}){amount_text(each)}" + "".join(
        s + amount_text(a) for s, a in amounts.items() if s in formers)
    try:
        hem = parse_formula(bracketed).composition
    except FormulaError:
        return None
    if all(math.isclose(hem.get(s, 0.0), a) for s, a in amounts.items()):
        return None
    literal = formula_from_amounts(amounts, "Composition")
    shared_reading = "".join(s + amount_text(a) for s, a in hem.items())
    return (f"this Composition holds {each:g} of each of its {len(cations)} cations per formula unit: hemkg consults "
            f"{literal}, as pymatgen reads it (a bracket multiplies its group). Under the HEM bracket convention "
            f"'{bracketed}' is one cation site the {len(cations)} cations share equally, {shared_reading}, a "
            f"different composition; if that is the material you mean, pass the string '{bracketed}' (or "
            f"Composition('{shared_reading}'))")


def ion_of(ion: object) -> str:
    """'Li', 'Li+' or ' li ' -> 'Li', one of the carrier ions the paper covers."""
    from hemkg.graph.vocab import spoken_list, vocab

    ions = vocab().ion_symbols
    hint = f"give one of {spoken_list(ions)}, e.g. ion='{ions[0]}'"
    if not isinstance(ion, str):
        raise InputTypeError(f"the carrier ion must be a str, not {type(ion).__name__} {ion!r}", hint)
    text = ion.strip().removesuffix("+")
    text = text[:1].upper() + text[1:].lower()
    if text not in ions:
        raise InputError(f"unknown carrier ion '{ion}': the paper covers {spoken_list(ions)}", hint)
    return text


def structure_of(structure: object) -> Structure:
    """None, a Structure, or a mapping of its fields (primary_particle_size_nm=20, framework='rGO', ...)."""
    from hemkg.consultation.consultation import Structure

    if structure is None:
        return Structure()
    if isinstance(structure, Structure):
        return structure_of({f: getattr(structure, f) for f in Structure.field_names()})
    if not isinstance(structure, Mapping):
        raise InputTypeError(f"structure must be a mapping of its fields or a Structure, not "
                             f"{type(structure).__name__}", f"fields: {', '.join(Structure.field_names())}")
    unknown = [str(k) for k in structure if k not in Structure.field_names()]
    if unknown:
        raise InputError(f"structure has no field {', '.join(unknown)}",
                         f"fields: {', '.join(Structure.field_names())}")
    for name in ("framework", "morphology"):
        if structure.get(name) is not None and not isinstance(structure[name], str):
            raise InputTypeError(f"structure's {name} must be a name (str), not {type(structure[name]).__name__}",
                                 "e.g. framework='rGO', morphology='yolk-shell'")
    try:
        return Structure(**{str(k): v for k, v in structure.items()}).validated()
    except InputError as err:
        raise InputError(err.message, err.hint or "sizes are in nm (positive, below 1e6); names are short words "
                                                  "such as rGO or yolk-shell") from None


def library_of(library: str | os.PathLike[str] | bool | None) -> LibraryFindings | None:
    """None or True: the library `hem consult` uses by default ($HEMKG_LIBRARY, else the user's data folder, when
    it holds findings); False: the paper alone; a folder: the library there."""
    from hemkg.consultation import literature

    if library is False:
        return None
    if library is None or library is True:
        return literature.load(None)
    if not isinstance(library, (str, os.PathLike)):
        raise InputTypeError(f"library must be a folder, True or False, not {type(library).__name__}",
                             "library=False consults the paper alone; a folder, the library kept there")
    return literature.load(library)
