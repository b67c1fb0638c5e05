"""Where the library lives: --library DIR, else $HEMKG_LIBRARY, else the per-user data folder.

Kept apart from store.py, which imports the findings' machinery: a consultation
asks here whether there is a library at all before it imports anything else.
"""

from __future__ import annotations

import os
from pathlib import Path

ENVIRONMENT = "HEMKG_LIBRARY"


def default_location() -> Path:
    """The per-user data folder (platformdirs: ~/.local/share/hemkg/library on Linux)."""
    import platformdirs

    return platformdirs.user_data_path("hemkg", appauthor=False) / "library"


def location(option: str | os.PathLike[str] | None = None) -> Path:
    """--library DIR, else $HEMKG_LIBRARY, else the per-user data folder."""
    if option:
        return Path(option).expanduser()
    if os.environ.get(ENVIRONMENT):
        return Path(os.environ[ENVIRONMENT]).expanduser()
    return default_location()


def absent(path: Path) -> bool:
    """No library here: the folder does not exist, or it is an empty folder."""
    return not path.exists() or (path.is_dir() and not any(path.iterdir()))
