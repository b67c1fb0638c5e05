"""The rule engine: the rule language, planning, code generation, running and derivations.

It knows no domain: rules/ holds the paper's rules as data, and the layers
above (hemkg.consultation, hemkg.screening) turn graph statements and user
input into the facts it matches.
"""

from hemkg.engine.core import (
    BUILTINS,
    Atom,
    Derivation,
    Fact,
    Result,
    Rule,
    RuleFileError,
    Source,
    Value,
    components,
    conventions,
    fact_text,
    load_rules,
    parse_atom,
    rules_for,
    run,
    share,
    show_value,
    stratify,
)

__all__ = [
    "BUILTINS",
    "Atom", "Derivation", "Fact", "Result", "Rule", "RuleFileError", "Source", "Value", "components",
    "conventions", "fact_text", "load_rules", "parse_atom", "rules_for", "run", "share", "show_value", "stratify",
]
