"""hemkg: the design guidelines for high-entropy-material battery anodes as a knowledge graph.

From Python (the same answers as the `hem` command, as typed objects):

    >>> import hemkg
    >>> c = hemkg.consult("(MgCoNiCuZn)O", ion="Li")
    >>> c.mechanisms["conversion"].status, c.roles["Mg"]
    ('accessible', ('stabilizer',))

consult, explain, compare, describe, screen and query, and the result types,
come from hemkg.api, imported on first use (PEP 562), so that `import hemkg`
and the `hem` command start without loading the graph, numpy or pandas.
"""

__version__ = "0.1.0"

# the names hemkg.api exports (its __all__; tests/test_api.py checks the two agree)
_API = (
    "Capacity", "Comparison", "CompositionWarning", "Consultation", "Description", "Effect", "Explanation", "Finding",
    "HemkgError", "HemkgWarning", "Mechanism", "compare", "consult", "describe", "explain", "query", "screen",
)
__all__ = ["__version__", *_API]

TYPE_CHECKING = False  # typing's constant, without importing typing (mypy takes the name as true)
if TYPE_CHECKING:
    from hemkg.api import (  # noqa: F401
        Capacity,
        Comparison,
        CompositionWarning,
        Consultation,
        Description,
        Effect,
        Explanation,
        Finding,
        HemkgError,
        HemkgWarning,
        Mechanism,
        compare,
        consult,
        describe,
        explain,
        query,
        screen,
    )


def __getattr__(name: str) -> object:
    if name in _API:
        from hemkg import api

        value = getattr(api, name)
        globals()[name] = value  # once looked up, an ordinary attribute
        return value
    raise AttributeError(f"module 'hemkg' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*(n for n in globals() if n.startswith("__")), *__all__})
