"""The rules that tie a family's parameters, program and template together (ValueError 'field: why')."""

from __future__ import annotations

import ast
import keyword
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import ParamSpec, Template

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def placeholders(text: str, where: str) -> list[str]:
    names = PLACEHOLDER.findall(text)
    for name in names:
        if not IDENT.match(name):
            raise ValueError(f"{where}: placeholder {{{name}}} must be an identifier in braces")
    if "{" in PLACEHOLDER.sub("", text) or "}" in PLACEHOLDER.sub("", text):
        raise ValueError(f"{where}: unbalanced brace (braces are only for placeholders)")
    return names


def check_draft(params: dict[str, ParamSpec], program: str, template: Template) -> None:
    """Rules that tie the parameters, the program and the template together; ValueError 'field: why'."""
    if not params:
        raise ValueError("params: a family needs at least one parameter")
    for name in params:
        if not IDENT.match(name) or name.startswith("_") or keyword.iskeyword(name):
            # the sandbox refuses names with a leading underscore
            raise ValueError(f"params.{name}: a parameter name must be a Python identifier not starting with _")
        if name in template.names:
            raise ValueError(f"template.names.{name}: also a parameter name")
    known = set(params) | set(template.names)
    used_in_problem: set[str] = set()
    for where, text in template.texts():
        for name in placeholders(text, where):
            if name not in known:
                raise ValueError(f"template.{where}: placeholder {{{name}}} is neither a parameter nor a name")
            if not where.startswith("irrelevant"):
                used_in_problem.add(name)
    for name in params:
        if name not in used_in_problem:
            raise ValueError(f"params.{name}: does not appear in the sentences or the question")
    for name in template.names:
        if name not in used_in_problem and not any(f"{{{name}}}" in s for s in template.irrelevant):
            raise ValueError(f"template.names.{name}: is never used")
    _check_program(program, set(params))


def _check_program(program: str, params: set[str]) -> None:
    try:
        tree = ast.parse(program)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ValueError(f"program: does not parse: {exc}") from None
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "solution"]
    if not funcs:
        raise ValueError("program: defines no top-level function solution(...)")
    args = funcs[-1].args
    named = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
    required = named[:len(named) - len(args.defaults) - len(args.kwonlyargs)] + \
        [a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=False) if d is None]
    missing = sorted(params - set(named)) if args.kwarg is None else []
    if missing:
        raise ValueError(f"program: solution() does not take the parameters {missing}")
    extra = sorted(set(required) - params)
    if extra:
        raise ValueError(f"program: solution() requires {extra}, which are not parameters")
