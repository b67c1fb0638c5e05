"""The rule engine: it reads the rules of rules/ and runs them to a fixpoint, recording every derivation.

It knows no domain: rules/ holds the paper's rules as data, and the layers
above (hemkg.consultation, hemkg.screening) turn graph statements and user
input into the facts it matches. One module for each part, each importing only
those before it:

- language.py: the rule language (atoms, rules, built-ins) and loading the rule files;
- derivations.py: what a run records (Source, Derivation, Result);
- planning.py: the order rules run in (rules over shared facts alone, strata for negation, components);
- codegen.py: rules turned into generated Python functions, compiled once and cached on disk;
- evaluation.py: the index of shared facts and run(), the fixpoint.
"""

from hemkg.engine.derivations import Derivation, Derivations, Facts, Result, Source
from hemkg.engine.evaluation import rules_for, run, share
from hemkg.engine.language import (
    BUILTINS,
    Atom,
    Fact,
    Rule,
    RuleFileError,
    Value,
    conventions,
    fact_text,
    load_rules,
    parse_atom,
    show_value,
)
from hemkg.engine.planning import Component, components, stratify

__all__ = [
    "BUILTINS",
    "Atom", "Component", "Derivation", "Derivations", "Fact", "Facts", "Result", "Rule", "RuleFileError", "Source",
    "Value", "components", "conventions", "fact_text", "load_rules", "parse_atom", "rules_for", "run", "share",
    "show_value", "stratify",
]
