"""Read the composition of a candidate anode material from what a chemist types.

    >>> parse_formula("(MgCoNiCuZn)O@C").composition
    {'Mg': 1.0, 'Co': 1.0, 'Ni': 1.0, 'Cu': 1.0, 'Zn': 1.0, 'O': 1.0}

The chemistry is parsed by `periodictable.formula` (imported inside
`parse_formula`, so that importing this module stays fast). This module only
fences off what periodictable would accept but a composition must not contain
(its units, mixtures, densities, isotopes and charges), checks what it lets
through (zero amounts), and turns every failure into a `FormulaError` that
points at a position in the text and says how to fix it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

MAX_LENGTH = 200
MAX_AMOUNT = 1000.0
FRAMEWORKS = ("C", "rGO", "GO", "CNT", "CNTs", "CNF", "graphene", "NC")
EXAMPLE = "(MgCoNiCuZn)O"

_OPEN = {"(": ")", "[": "]"}
_CLOSE = {")": "(", "]": "["}
_ALLOWED_PUNCT = set(".()[]/@·")
_NUMBER = re.compile(r"\d+(?:\.\d*)?|\.\d+")
_SYMBOL = re.compile(r"[A-Z][a-z]?")
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


class FormulaError(ValueError):
    """A formula that cannot be read; str() is one line: message, position, context, hint."""

    def __init__(self, message: str, *, text: str = "", position: int | None = None, hint: str = "") -> None:
        self.message = message
        self.text = text
        self.position = position
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        out = self.message
        if self.position is not None:
            context = self.text[self.position : self.position + 12]
            if self.position + 12 < len(self.text):
                context += "..."
            out += f" at position {self.position} ('{context}')" if context else f" at position {self.position} (end of text)"
        if self.hint:
            out += f": {self.hint}"
        # One line whatever the user typed: escape line breaks and other control whitespace.
        return "".join(c.encode("unicode_escape").decode() if c.isspace() and c != " " else c for c in out)


def parse_formula(text: str) -> ParsedFormula:
    """Parse a composition such as '(Mg0.2Co0.2Ni0.2Cu0.2Zn0.2)O' or 'FeS/C'; raise FormulaError if it cannot."""
    text = text.strip()

    def error(message: str, position: int | None = None, hint: str = "") -> FormulaError:
        return FormulaError(message, text=text, position=position, hint=hint)

    if not text:
        raise error("empty formula", hint=f"type a composition such as '{EXAMPLE}' or 'FeS/C'")
    if len(text) > MAX_LENGTH:
        raise error(f"formula is {len(text)} characters long, more than the limit of {MAX_LENGTH}")
    _check_characters(text, error)
    active, framework = _split_framework(text, error)
    _check_brackets(active, error)
    _check_numbers(active, error)

    import periodictable
    from pyparsing import ParseBaseException

    symbols = _element_symbols(periodictable)
    _check_letters(active, symbols, error)
    tokens = [(m.group(), m.start()) for m in _SYMBOL.finditer(active)]
    for sym, pos in tokens:
        if sym in _ISOTOPES:
            raise error(f"isotope symbol '{sym}' ({_ISOTOPES[sym]}) is not supported", pos,
                        _symbol_hint(sym, pos, active, symbols, pair_only=True, default="write hydrogen as 'H'"))

    # Same length, so positions still match the text: square brackets group like
    # round ones (periodictable would read '[2]' as an isotope), '·' is its '+'
    # separator (MgO·H2O), and any whitespace is a plain space.
    plain = "".join("(" if c == "[" else ")" if c == "]" else "+" if c == "·" else " " if c.isspace() else c for c in active)
    plain, notes = _equimolar_sites(plain)
    try:
        parsed = periodictable.formula(plain)
    except ParseBaseException as exc:
        loc = min(exc.loc, len(active))
        what = f"unexpected '{active[loc]}'" if loc < len(active) else "unexpected end of formula"
        raise error(f"cannot read the formula: {what}", loc,
                    f"write element symbols with amounts, e.g. '{EXAMPLE}' or '(Mg0.2Co0.2Ni0.2Cu0.2Zn0.2)O'") from None
    except (ValueError, KeyError) as exc:
        found = re.fullmatch(r"unknown element (\S+)", str(exc))
        if found:
            sym = found.group(1)
            pos = next((p for s, p in tokens if s == sym), None)
            raise error(f"unknown element symbol '{sym}'", pos, _symbol_hint(sym, pos, active, symbols)) from None
        raise error(f"periodictable cannot read the formula ({exc})", hint=f"write it like '{EXAMPLE}'") from None

    first_seen: dict[str, int] = {}
    for sym, pos in tokens:
        first_seen.setdefault(sym, pos)
    composition: dict[str, float] = {}
    for atom, amount in parsed.atoms.items():
        if getattr(atom, "isotope", None) is not None or getattr(atom, "charge", 0):
            raise error(f"'{atom}' is an isotope or ion; only elements are supported")
        sym, amount = atom.symbol, float(amount)
        pos = first_seen.get(sym)
        if not math.isfinite(amount):
            raise error(f"the amount of {sym} is not a finite number", pos)
        if amount <= 0:
            raise error(f"amount must be positive (the amount of {sym} is {amount:g})", pos)
        if amount > MAX_AMOUNT:
            raise error(f"the amount of {sym} is {amount:g}, more than {MAX_AMOUNT:g}", pos,
                        "amounts are atoms per formula unit; check the subscripts and bracket multipliers")
        composition[sym] = amount
    if not composition:
        raise error("the formula contains no element", hint=f"type a composition such as '{EXAMPLE}'")
    composition = dict(sorted(composition.items(), key=lambda kv: first_seen.get(kv[0], len(active))))
    return ParsedFormula(text=text, active=active.rstrip(), composition=composition,
                         framework=framework, warnings=_case_slips(tokens, symbols, periodictable), notes=notes)


# Elements that form anions, and so never share a HEM cation site written as '(ABCDE)'.
_ANION_FORMERS = {"P", "S", "O", "Se", "Te", "H", "B", "C", "N", "F", "Cl", "Br", "I"}
_BARE_GROUP = re.compile(r"\(((?:[A-Z][a-z]?){2,})\)")


def _equimolar_sites(plain: str) -> tuple[str, tuple[str, ...]]:
    """Read '(MgCoNiCuZn)O' as HEM papers mean it: one site shared equally, (Mg0.2Co0.2Ni0.2Cu0.2Zn0.2)O.

    Only a bracket of two or more bare cation symbols is read so; '(OH)2' or
    '(CN)6' contain anion formers and keep their ordinary meaning.
    """
    notes = []

    def share(match: re.Match) -> str:
        symbols = _SYMBOL.findall(match.group(1))
        if len(set(symbols)) != len(symbols) or _ANION_FORMERS & set(symbols):
            return match.group(0)
        fraction = 1 / len(symbols)
        shared = "".join(f"{s}{fraction:.12g}" for s in symbols)
        notes.append(f"'{match.group(0)}' is read as one site shared equally, ({shared.replace('.333333333333', '.333')}), "
                     "as HEM papers write it; give amounts to say otherwise")
        return f"({shared})"

    return _BARE_GROUP.sub(share, plain), tuple(notes)


def _check_characters(text: str, error: _Error) -> None:
    """Reject doping names, signs and any character a composition cannot contain."""
    doped = _DOPED.search(text)
    if doped:
        raise error("doped names are not supported", doped.start(),
                    "write the composition itself, e.g. 'Fe0.05Mo0.95S2' rather than 'Fe-doped MoS2'")
    for i, c in enumerate(text):
        if c.isascii() and c.isalnum() or c in _ALLOWED_PUNCT or c.isspace():
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
        raise error("only one '/' or '@' framework suffix is allowed", seps[1], f"write e.g. 'FeS/C'; known frameworks: {known}")
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
    """Find the first unmatched bracket with a stack scan (periodictable would only say 'expected end of text')."""
    stack: list[int] = []
    for i, c in enumerate(active):
        if c in _OPEN:
            stack.append(i)
        elif c in _CLOSE:
            if not stack:
                raise error(f"unmatched '{c}'", i, f"close every '{_CLOSE[c]}' with '{c}'")
            if active[stack[-1]] != _CLOSE[c]:
                o = active[stack[-1]]
                raise error(f"'{c}' does not match '{o}'", i, f"close the '{o}' at position {stack[-1]} with '{_OPEN[o]}'")
            stack.pop()
    if stack:
        o = active[stack[-1]]
        raise error(f"unmatched '{o}'", stack[-1], f"close every '{o}' with '{_OPEN[o]}'")


def _check_letters(active: str, symbols: dict[str, str], error: _Error) -> None:
    """A lowercase letter may only follow a capital (periodictable would read 'mg' as milligrams)."""
    frameworks = {f.lower() for f in FRAMEWORKS}
    for i, c in enumerate(active):
        if c.islower() and not (i > 0 and active[i - 1].isupper()):
            word = re.match(r"[A-Za-z]+", active[i:]).group()
            pair = active[i : i + 2].capitalize()
            if word.lower() in frameworks:
                hint = f"put a carbon framework after '/' or '@', e.g. 'SnO2/{word}'"
            elif pair in symbols or c.upper() in symbols:
                hint = f"element symbols start with a capital letter: did you mean '{pair if pair in symbols else c.upper()}'?"
            else:
                hint = "an element symbol is a capital letter, optionally followed by one lowercase letter (Co, O)"
            raise error(f"unexpected lowercase letter '{c}'", i, hint)


def _check_numbers(active: str, error: _Error) -> None:
    """Check amounts in the text: periodictable accepts '0' and reads '01' as 0 then 1."""
    spans: list[range] = []
    for m in _NUMBER.finditer(active):
        if spans and spans[-1].stop == m.start():
            raise error(f"number '{m.group()}' follows another number", m.start(),
                        "write one amount after each element symbol or bracket, e.g. 'Mg0.2'")
        spans.append(range(m.start(), m.end()))
        number, value = m.group(), float(m.group())
        if value == 0:
            raise error("amount must be positive", m.start(), "leave out an element that is absent")
        if re.match(r"0\d", number):
            raise error(f"amount '{number}' has a leading zero", m.start(), "write e.g. '0.5' or '1'")
        if value > MAX_AMOUNT:
            raise error(f"amount {number} is more than {MAX_AMOUNT:g}", m.start(),
                        "amounts are atoms per formula unit; check the subscript")
    for i, c in enumerate(active):
        if c == "." and not any(i in s for s in spans):
            raise error("a '.' must be part of a number", i, "write amounts like '0.2' or '.2'")


def _element_symbols(periodictable: ModuleType) -> dict[str, str]:
    """Symbol -> name of every real element (no neutron, deuterium or tritium)."""
    return {el.symbol: el.name for el in periodictable.elements if el.number >= 1}


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


def _case_slips(tokens: list[tuple[str, int]], symbols: dict[str, str], periodictable: ModuleType) -> tuple[str, ...]:
    """Warn where two adjacent one-letter symbols (C, O) would be one element in title case (Co).

    Only elements with a stable isotope count (Z <= 83 but Tc, Pm): otherwise
    every phosphate (PO4 -> polonium) and nitrate (NO3 -> nobelium) would warn.
    """
    found = []
    for (a, pa), (b, pb) in zip(tokens, tokens[1:]):
        title = a + b.lower()
        if (len(a) == 1 and len(b) == 1 and pb == pa + 1 and title in symbols
                and periodictable.elements.symbol(title).number <= 83 and title not in ("Tc", "Pm")):
            found.append(f"'{a}{b}' at position {pa} was read as {a} and {b}; "
                         f"if you meant {symbols[title]} write '{title}'")
    return tuple(found)
