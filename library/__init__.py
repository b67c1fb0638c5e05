"""The literature library: findings from primary papers, kept as nanopublications in an on-disk store.

A layer of its own between graph/ and engine/: it reads the ontology's
vocabulary from graph/ and knows nothing of formulas, rules or consultations.
Checks that need those (a formula that parses, an element that is in it) live
above it, in consultation/findings.py.
"""
