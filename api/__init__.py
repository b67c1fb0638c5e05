"""hemkg's public Python API (issue 14): the CLI's answers as typed objects and tables.

    >>> import hemkg
    >>> c = hemkg.consult("(MgCoNiCuZn)O", ion="Li")
    >>> c.mechanisms["conversion"].elements
    ('Co', 'Cu', 'Ni', 'Zn')

`hemkg` itself re-exports these names lazily (PEP 562), so `import hemkg`
loads nothing heavy; each call imports what it needs.
"""

from hemkg.api.calls import compare, consult, describe, explain, query, screen
from hemkg.api.results import Capacity, Comparison, Consultation, Description, Effect, Explanation, Finding, Mechanism
from hemkg.errors import CompositionWarning, HemkgError, HemkgWarning

__all__ = [
    "Capacity", "Comparison", "CompositionWarning", "Consultation", "Description", "Effect", "Explanation", "Finding",
    "HemkgError", "HemkgWarning", "Mechanism", "compare", "consult", "describe", "explain", "query", "screen",
]
