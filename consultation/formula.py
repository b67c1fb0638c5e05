"""Read the composition of a candidate anode material from what a chemist types.

    >>> parse_formula("(MgCoNiCuZn)O@C").composition
    {'Mg': 1.0, 'Co': 1.0, 'Ni': 1.0, 'Cu': 1.0, 'Zn': 1.0, 'O': 1.0}

This module checks the notation itself, token by token, so that every failure
is a `FormulaError` that points at a position in the text and says how to fix
it: the characters, brackets, amounts, element symbols (from the project's
generated kg/generated/elements.json), and where a number may stand. The
amounts of a text that passes are then counted by `chemparse` (regex-based,
imported inside `parse_formula`; it starts in a few milliseconds where
periodictable's pyparsing grammar took about 100, a third of a cold
`hem consult`). chemparse validates nothing and knows neither '·' nor a
leading count, so it is given only checked text, one '·' part at a time.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from hemkg.errors import FormulaError
from hemkg.graph.vocab import vocab

MAX_LENGTH = 200
MAX_AMOUNT = 1000.0
FRAMEWORKS = ("C", "rGO", "GO", "CNT", "CNTs", "CNF", "graphene", "NC")
EXAMPLE = "(MgCoNiCuZn)O"

_OPEN = {"(": ")", "[": "]"}
_CLOSE = {")": "(", "]": "["}
_ALLOWED_PUNCT = set(".()[]/@·")
_NUMBER = re.compile(r"\d+(?:\.\d*)?|\.\d+")
_SYMBOL = re.compile(r"[A-Z][a-z]?")
_TOKEN = re.compile(r"(?P<space>\s+)|(?P<symbol>[A-Z][a-z]?)|(?P<number>\d+(?:\.\d*)?|\.\d+)|(?P<punct>[()\[\]·])")
_STABLE_LIMIT = 83  # bismuth: the last element with a stable isotope (but Tc and Pm)
_DOPED = re.compile(r"-\s*doped|doped", re.IGNORECASE)
_ISOTOPES = {"D": "deuterium", "T": "tritium"}

_Error = Callable[..., "FormulaError"]  # builds a FormulaError for the text being parsed


@dataclass(frozen=True)
class ParsedFormula:
    """A parsed composition: the active material, its atoms, and any carbon framework."""

    text: str  # what the user typed, stripped
    active: str  # the active-material part (suffix removed)
    composition: dict[str, float]  # symbol -> amount, in order of first appearance in the text
    framework: str | None  # the carbon framework after '/' or '@', or None
    warnings: tuple[str, ...]  # e.g. likely case slips
    notes: tuple[str, ...] = ()  # how the text was read, e.g. an equimolar site


def parse_formula(text: str) -> ParsedFormula:
    """Parse a composition such as '(Mg0.2Co0.2Ni0.2Cu0.2Zn0.2)O' or 'FeS/C'; raise FormulaError if it cannot."""
    parsed = _parsed(text)
    return ParsedFormula(parsed.text, parsed.active, dict(parsed.composition), parsed.framework, parsed.warnings,
                         parsed.notes)  # a composition of the caller's own: the cached one is never handed out


PARSED_KEPT = 4096  # formulas a process keeps parsed: checking one costs as much as a tenth of a consultation


@functools.lru_cache(maxsize=PARSED_KEPT)
def _parsed(text: str) -> ParsedFormula:
    """parse_formula's work, kept per text typed (a formula refused is checked again, and raises again)."""
    text = text.strip()

    def error(message: str, position: int | None = None, hint: str = "") -> FormulaError:
        return FormulaError(message, text=text, position=position, hint=hint)

    if not text:
        raise error("empty formula", hint=f"type a composition such as '{EXAMPLE}' or 'FeS/C'")
    if len(text) > MAX_LENGTH:
        raise error(f"formula is {len(text)} characters long, more than the limit of {MAX_LENGTH}")
    _check_characters(text, error)
    typed, text, hydrate_notes = text, *_hydrate_dots(text)
    active, framework = _split_framework(text, error)
    _check_brackets(active, error)
    _check_numbers(active, error)

    symbols = _element_symbols()
    _check_letters(active, symbols, error)
    tokens = [(m.group(), m.start()) for m in _SYMBOL.finditer(active)]
    for sym, pos in tokens:
        if sym in _ISOTOPES:
            raise error(f"isotope symbol '{sym}' ({_ISOTOPES[sym]}) is not supported", pos,
                        _symbol_hint(sym, pos, active, symbols, pair_only=True, default="write hydrogen as 'H'"))
    parts = _read_parts(active, symbols, error)

    import chemparse
    from chemparse.exceptions import ChemparseError

    atoms: dict[str, float] = {}
    notes: tuple[str, ...] = hydrate_notes
    for count, start, end in parts:
        # chemparse reads round brackets only, stops at whitespace and drops
        # what follows a number ending in '.', so give it none of them.
        plain = "".join("(" if c == "[" else ")" if c == "]" else c for c in active[start:end])
        plain, part_notes = _equimolar_sites(plain)
        notes += part_notes
        plain = re.sub(r"(?<=\d)\.(?!\d)", "", re.sub(r"\s+", "", plain))
        try:
            counted = chemparse.parse_formula(plain)
        except (ChemparseError, ValueError, IndexError) as exc:
            raise error(f"chemparse cannot read the formula ({exc})", start, f"write it like '{EXAMPLE}'") from None
        if set(counted) != set(_SYMBOL.findall(plain)):  # never expected: the text was checked token by token
            raise error(f"chemparse read '{plain}' as {sorted(counted)}", start, f"write it like '{EXAMPLE}'")
        for sym, amount in counted.items():
            atoms[sym] = atoms.get(sym, 0.0) + count * amount

    first_seen: dict[str, int] = {}
    for sym, pos in tokens:
        first_seen.setdefault(sym, pos)
    composition: dict[str, float] = {}
    for sym, amount in sorted(atoms.items(), key=lambda kv: first_seen.get(kv[0], len(active))):
        amount = float(amount)
        at = first_seen.get(sym)
        if not math.isfinite(amount):
            raise error(f"the amount of {sym} is not a finite number", at)
        if amount <= 0:
            raise error(f"amount must be positive (the amount of {sym} is {amount:g})", at)
        if amount > MAX_AMOUNT:
            raise error(f"the amount of {sym} is {amount:g}, more than {MAX_AMOUNT:g}", at,
                        "amounts are atoms per formula unit; check the subscripts and bracket multipliers")
        composition[sym] = amount
    if not composition:
        raise error("the formula contains no element", hint=f"type a composition such as '{EXAMPLE}'")
    return ParsedFormula(text=typed, active=active.rstrip(), composition=composition,
                         framework=framework, warnings=_case_slips(tokens, symbols), notes=notes)


_BARE_GROUP = re.compile(r"\(((?:[A-Z][a-z]?){2,})\)")


def _equimolar_sites(plain: str) -> tuple[str, tuple[str, ...]]:
    """Read '(MgCoNiCuZn)O' as HEM papers mean it: one site shared equally, (Mg0.2Co0.2Ni0.2Cu0.2Zn0.2)O.

    Only a bracket of two or more bare cation symbols is read so; '(OH)2' or
    '(CN)6' contain anion formers and keep their ordinary meaning.
    """
    notes = []

    def share(match: re.Match) -> str:
        symbols = _SYMBOL.findall(match.group(1))
        if len(set(symbols)) != len(symbols) or vocab().anion_formers & set(symbols):  # anions share no cation site
            return match.group(0)
        fraction = 1 / len(symbols)
        shared = "".join(f"{s}{fraction:.12g}" for s in symbols)
        shown = shared.replace(".333333333333", ".333")
        notes.append(f"'{match.group(0)}' is read as one site shared equally, ({shown}), "
                     "as HEM papers write it; give amounts to say otherwise")
        return f"({shared})"

    return _BARE_GROUP.sub(share, plain), tuple(notes)


# A '.' joining a formula and water, as chemists write hydrates on a keyboard: CuSO4.5H2O, CaSO4.0.5H2O,
# CuSO4.H2O. Not after a number starting with 0 ('Mg0.5H2O' is a decimal amount); water must end the part.
_HYDRATE_DOT = re.compile(r"(?:[A-Za-z)\]]|(?<![\d.])[1-9]\d*)(\.)(\d+(?:\.\d+)?)?(?=H2O(?:$|[\s·/@]))")


def _hydrate_dots(text: str) -> tuple[str, tuple[str, ...]]:
    """Read 'CuSO4.5H2O' as the hydrate CuSO4·5H2O, and say so in a note (it is never guessed silently)."""
    notes = []
    for m in reversed(list(_HYDRATE_DOT.finditer(text))):
        dot = m.start(1)
        text = text[:dot] + "·" + text[dot + 1 :]
        count = m.group(2) or "1"
        notes.append(f"'.{m.group(2) or ''}H2O' at position {dot} is read as water of hydration, "
                     f"{count} H2O per formula unit (as '·{m.group(2) or ''}H2O'); write '·' to say so")
    return text, tuple(reversed(notes))


def _check_characters(text: str, error: _Error) -> None:
    """Reject doping names, signs and any character a composition cannot contain."""
    doped = _DOPED.search(text)
    if doped:
        raise error("doped names are not supported", doped.start(),
                    "write the composition itself, e.g. 'Fe0.05Mo0.95S2' rather than 'Fe-doped MoS2'")
    for i, c in enumerate(text):
        if (c.isascii() and c.isalnum()) or c in _ALLOWED_PUNCT or c.isspace():
            continue
        if c == "-" and i + 1 < len(text) and (text[i + 1].isdigit() or text[i + 1] == "."):
            raise error("amount must be positive", i, "remove the '-' sign")
        if c in "+-":
            raise error(f"'{c}' is not allowed: charges, signs and isotopes are not supported", i,
                        "write a neutral composition, e.g. 'Fe2O3'")
        raise error(f"character '{c}' is not allowed", i,
                    "use element symbols, numbers, '.', brackets, '·', and '/' or '@' before a carbon framework")


def _split_framework(text: str, error: _Error) -> tuple[str, str | None]:
    """Split 'X/Y' or 'X@Y' into the active part X and the known framework Y."""
    seps = [i for i, c in enumerate(text) if c in "/@"]
    if not seps:
        return text, None
    known = ", ".join(FRAMEWORKS)
    if len(seps) > 1:
        raise error("only one '/' or '@' framework suffix is allowed", seps[1],
                    f"write e.g. 'FeS/C'; known frameworks: {known}")
    sep = seps[0]
    active, suffix = text[:sep], text[sep + 1 :]
    if not active.strip():
        raise error(f"missing active material before '{text[sep]}'", 0, f"write e.g. 'FeS{text[sep]}C'")
    start = sep + 1 + (len(suffix) - len(suffix.lstrip()))
    suffix = suffix.strip()
    if not suffix:
        raise error(f"missing carbon framework after '{text[sep]}'", len(text), f"known frameworks: {known}")
    by_lower = {f.lower(): f for f in FRAMEWORKS}
    if suffix.lower() not in by_lower:
        raise error(f"unknown carbon framework '{suffix}'", start, f"known frameworks: {known}")
    return active, by_lower[suffix.lower()]


def _check_brackets(active: str, error: _Error) -> None:
    """Find the first unmatched bracket with a stack scan (chemparse would only say the counts differ)."""
    stack: list[int] = []
    for i, c in enumerate(active):
        if c in _OPEN:
            stack.append(i)
        elif c in _CLOSE:
            if not stack:
                raise error(f"unmatched '{c}'", i, f"close every '{_CLOSE[c]}' with '{c}'")
            if active[stack[-1]] != _CLOSE[c]:
                o = active[stack[-1]]
                raise error(f"'{c}' does not match '{o}'", i,
                            f"close the '{o}' at position {stack[-1]} with '{_OPEN[o]}'")
            stack.pop()
    if stack:
        o = active[stack[-1]]
        raise error(f"unmatched '{o}'", stack[-1], f"close every '{o}' with '{_OPEN[o]}'")


def _check_letters(active: str, symbols: dict[str, str], error: _Error) -> None:
    """A lowercase letter may only follow a capital (chemparse would take 'mg' for a symbol)."""
    frameworks = {f.lower() for f in FRAMEWORKS}
    for i, c in enumerate(active):
        if c.islower() and not (i > 0 and active[i - 1].isupper()):
            letters = re.match(r"[A-Za-z]+", active[i:])  # always: _check_characters let ASCII letters only through
            word = letters.group() if letters else c
            pair = active[i : i + 2].capitalize()
            if word.lower() in frameworks:
                hint = f"put a carbon framework after '/' or '@', e.g. 'SnO2/{word}'"
            elif pair in symbols or c.upper() in symbols:
                meant = pair if pair in symbols else c.upper()
                hint = f"element symbols start with a capital letter: did you mean '{meant}'?"
            else:
                hint = "an element symbol is a capital letter, optionally followed by one lowercase letter (Co, O)"
            raise error(f"unexpected lowercase letter '{c}'", i, hint)


def _check_numbers(active: str, error: _Error) -> None:
    """Check amounts in the text: chemparse accepts '0', reads '01' as 1 and drops what follows '2.'."""
    end = None  # where the number before ended
    dots_in_numbers = set()
    for m in _NUMBER.finditer(active):
        number = m.group()
        if end == m.start():
            raise error(f"number '{number}' follows another number", m.start(),
                        "write one amount after each element symbol or bracket, e.g. 'Mg0.2'")
        end = m.end()
        value = float(number)
        if value == 0:
            raise error("amount must be positive", m.start(), "leave out an element that is absent")
        if number[0] == "0" and len(number) > 1 and number[1].isdigit():
            raise error(f"amount '{number}' has a leading zero", m.start(), "write e.g. '0.5' or '1'")
        if value > MAX_AMOUNT:
            raise error(f"amount {number} is more than {MAX_AMOUNT:g}", m.start(),
                        "amounts are atoms per formula unit; check the subscript")
        if "." in number:
            dots_in_numbers.add(m.start() + number.index("."))
    dot = active.find(".")
    while dot != -1:
        if dot not in dots_in_numbers:
            raise error("a '.' must be part of a number", dot, "write amounts like '0.2' or '.2'")
        dot = active.find(".", dot + 1)


def _read_parts(active: str, symbols: dict[str, str], error: _Error) -> list[tuple[float, int, int]]:
    """Check where each token stands; return the '·' parts as (leading count, start, end) in `active`.

    A number counts the symbol or ')' right before it, or, first in a part,
    the whole part ('CuSO4·5H2O'); anywhere else ('Mg 2', '(2Mg)') it is an
    error, as are empty brackets, empty parts, '·' inside brackets and unknown
    element symbols. Whitespace may stand at the start of a part, after its
    leading count and before a '·' ('MgO · 0.5 H2O'); before a symbol or a
    bracket anywhere else ('Fe2O3 ZnO', a line break in a CSV field) it is an
    error, since two formulas would be read as one. Runs after _check_brackets,
    _check_numbers and _check_letters.
    """
    parts: list[tuple[float, int, int]] = []
    count, start, count_at, dot = 1.0, 0, None, None  # the part being read; dot: the '·' before it
    has_element = [False]  # one entry for the part, and one per open bracket
    first = True  # no token but whitespace yet in this part
    prev = None  # kind of the token right before, None after whitespace

    def unexpected(pos: int) -> FormulaError:
        return error(f"cannot read the formula: unexpected '{active[pos]}'", pos,
                     f"write element symbols with amounts, e.g. '{EXAMPLE}' or '(Mg0.2Co0.2Ni0.2Cu0.2Zn0.2)O'")

    def close_part(end: int, pos: int) -> None:
        if not has_element[0]:
            raise unexpected(count_at if count_at is not None else dot if dot is not None else pos)
        parts.append((count, start, end))

    space_at = None  # where whitespace before this token began, unless it stands where whitespace may
    for m in _TOKEN.finditer(active):
        kind, text, pos = m.lastgroup, m.group(), m.start()
        if kind == "space":  # allowed at the start of a '·' part, after its leading count, and before a '·'
            space_at = None if first or prev == "count" else pos
            prev = None
            continue
        if space_at is not None and (kind == "symbol" or text in "()[]"):
            raise error(f"whitespace ({_whitespace_name(active[space_at])}) inside the formula", space_at,
                        "a formula is one composition written without spaces, e.g. 'Fe2O3'; "
                        "give each candidate as its own argument or line")
        space_at = None
        was_first, first = first, False
        if kind == "symbol":
            if text not in symbols:
                raise error(f"unknown element symbol '{text}'", pos, _symbol_hint(text, pos, active, symbols))
            has_element[-1] = True
        elif kind == "number":
            if was_first:
                count, count_at, start, kind = float(text), pos, m.end(), "count"
            elif prev not in ("symbol", ")"):
                raise unexpected(pos)
        elif text in "([":
            has_element.append(False)
        elif text in ")]":
            if not has_element.pop():
                opened = active.rindex(_CLOSE[text], 0, pos)
                raise error("cannot read the formula: empty brackets", opened,
                            "put element symbols inside, e.g. '(MgCo)O'")
            has_element[-1] = True
        else:  # '·'
            if len(has_element) > 1:
                raise error("cannot read the formula: '·' inside brackets", pos,
                            "'·' joins whole parts, e.g. 'MgO·H2O'")
            close_part(pos, pos)
            count, start, count_at, dot, has_element, first = 1.0, pos + 1, None, pos, [False], True
        prev = "symbol" if kind == "symbol" else ")" if text in ")]" else kind
    close_part(len(active), len(active))
    return parts


def _whitespace_name(c: str) -> str:
    names = {" ": "a space", "\t": "a tab", "\n": "a line break", "\r": "a line break"}
    return names.get(c, f"U+{ord(c):04X}")


@functools.cache
def _elements() -> dict[str, tuple[int, str]]:
    """Symbol -> (atomic number, name) of every element, from kg/generated/elements.json (pymatgen's data)."""
    import json

    from hemkg.graph.store import package_root

    path = package_root() / "kg" / "generated" / "elements.json"
    return {sym: (e["Z"], e["name"]) for sym, e in json.loads(path.read_text(encoding="utf-8"))["elements"].items()}


@functools.cache
def _element_symbols() -> dict[str, str]:
    """Symbol -> name of every real element, in order of atomic number (no D or T: they are isotopes)."""
    return {sym: name for sym, (_, name) in _elements().items()}


def _symbol_hint(sym: str, pos: int | None, active: str, symbols: dict[str, str],
                 pair_only: bool = False, default: str = "") -> str:
    """Close real symbols for a wrong one: 'Zm' -> Zn, Zr; 'M' followed by 'G' -> Mg."""
    close: list[str] = []
    if len(sym) == 1 and pos is not None and pos + 1 < len(active) and active[pos + 1].isupper():
        title = sym + active[pos + 1].lower()
        if title in symbols:
            close.append(title)
    if pair_only:
        return f"did you mean '{close[0]}'?" if close else default
    same_first = [s for s in symbols if len(s) == 2 and s[0] == sym[0] and s not in close]
    key = (lambda s: (abs(ord(s[1]) - ord(sym[1])), s)) if len(sym) == 2 else (lambda s: s)
    close += sorted(same_first, key=key)[: 3 - len(close)]
    if not close:
        import difflib

        close = difflib.get_close_matches(sym, list(symbols), n=3, cutoff=0.5)
    if close:
        return "did you mean " + " or ".join(f"'{s}'" for s in close) + "?"
    return default or "element symbols are a capital letter, optionally followed by one lowercase letter"


def _case_slips(tokens: list[tuple[str, int]], symbols: dict[str, str]) -> tuple[str, ...]:
    """Warn where two adjacent one-letter symbols (C, O) would be one element in title case (Co).

    Only elements with a stable isotope count (Z <= 83 but Tc, Pm): otherwise
    every phosphate (PO4 -> polonium) and nitrate (NO3 -> nobelium) would warn.
    """
    found = []
    for (a, pa), (b, pb) in itertools.pairwise(tokens):
        title = a + b.lower()
        if (len(a) == 1 and len(b) == 1 and pb == pa + 1 and title in symbols
                and _elements()[title][0] <= _STABLE_LIMIT and title not in ("Tc", "Pm")):
            found.append(f"'{a}{b}' at position {pa} was read as {a} and {b}; "
                         f"if you meant {symbols[title]} write '{title}'")
    return tuple(found)
