"""The segment rule language: a JSON tree of AND / OR groups (each may be negated) over
conditions, validated by ``schema.py`` and compiled to one Django ``Q`` by ``compiler.py``."""
