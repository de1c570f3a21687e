"""sgde compiler: the SGDe loop.

A teacher reads the student's traces on a few examples and proposes typed
edits (`edits`); generated code is audited, sandboxed and property-tested
(`audit`, `properties`, `verify`); a candidate is accepted only if it scores
better on the examples (`forward`, `loop`). Task families (`families`) supply
training and evaluation material; teachers live in `teachers`.
"""
