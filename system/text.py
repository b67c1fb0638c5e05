"""Text for the terminal: the width to write to, lines fitted to it, and tables sized to their content.

Every text answer of `hem` is fitted to the terminal's width (80 columns when stdout is not a terminal), so that
no line runs past the edge of a window or of a piped reader's page. Tables are drawn with rich (imported when
one is drawn), each column as wide as its content, shrunk to the width when they would not fit.
"""

from __future__ import annotations

import shutil
import sys
import textwrap
from collections.abc import Sequence

PIPED_WIDTH = 80  # the width of text that goes to a file or a pipe
MAX_WIDTH = 100  # the widest a terminal's text is set, for readability
TREE = "│├└─ "  # the characters of a derivation tree's bars, kept at the start of each wrapped line


def width() -> int:
    """The terminal's width, capped at MAX_WIDTH; PIPED_WIDTH when stdout is not a terminal."""
    if not sys.stdout.isatty():
        return PIPED_WIDTH
    return max(40, min(MAX_WIDTH, shutil.get_terminal_size((PIPED_WIDTH, 24)).columns))


def fit(text: str, columns: int) -> str:
    """`text` with each line longer than `columns` wrapped at spaces: its continuation lines keep the line's
    indentation (and a tree's bars, ├─ becoming │), two spaces deeper. Lines that fit are left as they are."""
    out: list[str] = []
    for line in text.split("\n"):
        if len(line) <= columns:
            out.append(line)
            continue
        body = line.lstrip(TREE)
        prefix = line[: len(line) - len(body)]
        below = prefix.replace("├", "│").replace("└", " ").replace("─", " ")
        hang = below + "  "
        if len(hang) > columns // 2:  # a very deep line: wrap it under its first words rather than not at all
            hang = " " * (columns // 4)
        out.extend(textwrap.wrap(body, width=columns, initial_indent=prefix, subsequent_indent=hang,
                                 break_on_hyphens=False, break_long_words=True) or [line])
    return "\n".join(out)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], columns: int,
          right: Sequence[int] = (), wrap: Sequence[int] | None = None, title: str | None = None) -> str:
    """An aligned table with rich: a header row, a rule under it, one row per row; columns `right` (their
    indices) right-aligned (numbers). As wide as the content, at most `columns`: then only the columns `wrap`
    (default: all) are folded to fit, the others (short codes and numbers) kept whole."""
    import io

    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    grid = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title=title, title_justify="left",
                 header_style="", title_style="", padding=(0, 1, 0, 0))
    for i, name in enumerate(headers):
        folds = wrap is None or i in wrap
        grid.add_column(name, justify="right" if i in right else "left", overflow="fold", no_wrap=not folds,
                        min_width=None if folds else max([len(name)] + [len(str(r[i])) for r in rows]))
    for row in rows:
        grid.add_row(*[Text(str(v)) for v in row])  # Text: "[40, 42]" is a citation, not rich markup
    buffer = io.StringIO()
    Console(file=buffer, width=columns, color_system=None, force_terminal=False, highlight=False,
            emoji=False, markup=False, legacy_windows=False).print(grid)
    return "\n".join(line.rstrip() for line in buffer.getvalue().rstrip("\n").split("\n")) + "\n"


def natural_width(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> int:
    """The width table() gives these columns when nothing is folded."""
    return sum(max([len(h)] + [len(str(r[i])) for r in rows]) + 2 for i, h in enumerate(headers))
