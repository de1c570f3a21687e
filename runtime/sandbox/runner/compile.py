"""Compile node code under RestrictedPython, with the rules model-written code needs.

RestrictedPython's default rules over-block ordinary programs (``d[k] += 1``,
``_helper`` names, attribute writes on own classes) and do not know our import
allow-list. This module keeps its security rules (no dunders, no frame or code
attributes, no exec/eval, guarded attribute and item access) and adds:

- augmented assignment to items and attributes, rewritten so that the
  container and key are evaluated once and the in-place operator still runs
  through the ``_inplacevar_`` guard;
- single-underscore names and attributes (runtime guards still refuse private
  attributes of anything that is not the code's own object);
- imports checked against the policy's allow-list at compile time;
- references to builtins the sandbox never provides (open, globals, ...) are
  refused at compile time with a message saying so;
- ordinary data-model methods in classes (``__repr__``, ``__hash__``,
  ``__add__``, ...), ``super().__init__(...)``, ``type(e).__name__``,
  ``nonlocal``, annotated assignments and ``match`` statements, whose
  patterns are checked here because the compiler needs them as plain names;
- a recursion ceiling far above CPython's default while compiling, so a
  written-out sum of thousands of terms compiles, and anything deeper is a
  clear refusal instead of a crashed process.

Runs inside the sandbox runner: compiling hostile code can itself be costly.
"""

from __future__ import annotations

import ast
import re
import sys
from typing import TYPE_CHECKING

# RestrictedPython re-exports it in __init__ without __all__, which strict mypy does not count as an export
from RestrictedPython import compile_restricted_exec  # type: ignore[attr-defined]
from RestrictedPython.transformer import INSPECT_ATTRIBUTES, RestrictingNodeTransformer, copy_locations

if TYPE_CHECKING:
    from collections.abc import Iterable
    from types import CodeType

    # the nodes check_name accepts (those with a position)
    from RestrictedPython._types import T_pos_ast

    _VisitResult = ast.AST | Iterable[ast.AST] | None  # what RestrictingNodeTransformer's visitors return

#: prefix of the temporaries our rewrite introduces; refused in user code
TMP_PREFIX = "_sgde_t"
#: names RestrictedPython's generated code relies on; user code may never bind or read them
_HOOK_NAME = re.compile(r"^(_print|_tmp\d*|_sgde.*|_.*_)$")
#: builtins that do not exist in the sandbox, refused by name so the error is clear
UNAVAILABLE_BUILTINS = frozenset({
    "open", "exec", "eval", "compile", "globals", "locals", "vars", "dir", "__import__", "breakpoint", "input",
    "memoryview", "help", "exit", "quit", "setattr", "delattr", "classmethod_descriptor", "copyright", "credits",
    "license", "id",
})
#: attribute names refused everywhere, on top of RestrictedPython's INSPECT_ATTRIBUTES
DENIED_ATTRIBUTES = frozenset(INSPECT_ATTRIBUTES | {
    "f_builtins", "f_locals", "f_globals", "f_back", "f_code", "gi_frame", "gi_code", "cr_frame", "cr_code",
    "ag_frame", "ag_code", "tb_frame", "tb_next", "co_code", "func_globals", "func_code", "mro",
})
#: methods a class body may define although their names start with "__": the data model, nothing that
#: changes how attributes are looked up (__getattribute__, __getattr__, __setattr__), how classes are
#: built (__init_subclass__, __set_name__, __mro_entries__, __class_getitem__) or when code runs (__del__)
DATA_MODEL_METHODS = frozenset({
    "__init__", "__new__", "__repr__", "__str__", "__format__", "__hash__", "__bool__", "__len__", "__iter__",
    "__next__", "__reversed__", "__contains__", "__getitem__", "__setitem__", "__delitem__", "__missing__",
    "__call__", "__enter__", "__exit__", "__index__", "__int__", "__float__", "__complex__", "__round__",
    "__trunc__", "__floor__", "__ceil__", "__abs__", "__neg__", "__pos__", "__invert__",
    "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__",
} | {f"__{p}{op}__" for op in ("add", "sub", "mul", "matmul", "truediv", "floordiv", "mod", "divmod", "pow",
                                "lshift", "rshift", "and", "xor", "or") for p in ("", "r", "i")})
#: public names the run-time guard refuses or replaces (str.format's field lookups, ABC registration);
#: match patterns read attributes with a plain getattr, so patterns may not name them at all
GUARDED_PUBLIC_NAMES = frozenset({"format", "format_map", "register"})
#: recursion ceiling while parsing, transforming and compiling (CPython's C stack holds it on 8 MiB)
COMPILE_RECURSION_LIMIT = 8000
#: what that ceiling allows, measured: `1 + 1 + ... + 1` with this many terms still compiles
NESTING_CEILING = 1500


class CompileRefusal(Exception):
    """Raised by `compile_node`; carries the readable reasons."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


class _PrePass(ast.NodeTransformer):
    """Checks imports and reserved names on the user's own AST, then rewrites augmented assignment."""

    def __init__(self, allowed_imports: frozenset[str]) -> None:
        self.allowed = allowed_imports
        self.errors: list[str] = []
        self.bound: set[str] = set()
        self._tmp = 0

    def _err(self, node: ast.AST, message: str) -> None:
        self.errors.append(f"Line {getattr(node, 'lineno', '?')}: {message}")

    def _check_module(self, node: ast.AST, module: str | None, level: int = 0) -> None:
        if level:
            self._err(node, "relative imports are not allowed")
            return
        if module not in self.allowed:
            allowed = ", ".join(sorted(self.allowed)) or "none"
            self._err(node, f"import of {module!r} is not allowed by the policy (allowed: {allowed})")

    def visit_Import(self, node: ast.Import) -> ast.AST:
        for alias in node.names:
            self._check_module(node, alias.name)
            self.bound.add((alias.asname or alias.name).split(".")[0])
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST:
        self._check_module(node, node.module, node.level)
        for alias in node.names:
            if alias.name == "*":
                self._err(node, f"'from {node.module} import *' is not allowed; import the names you use")
            self.bound.add(alias.asname or alias.name)
        return node

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id.startswith(TMP_PREFIX):
            self._err(node, f'"{node.id}" is reserved for the sandbox')
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            self.bound.add(node.id)
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        self.bound.add(node.name)
        for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs, node.args.vararg,
                    node.args.kwarg]:
            if arg is not None:
                self.bound.add(arg.arg)
        self.generic_visit(node)
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        self.bound.add(node.name)
        self.generic_visit(node)
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST | list[ast.stmt]:
        self.generic_visit(node)
        target = node.target
        if isinstance(target, ast.Name):
            return node
        # obj[key] op= value  ->  t0 = obj; t1 = key; t2 = t0[t1]; t2 op= value; t0[t1] = t2
        names = [f"{TMP_PREFIX}{self._tmp + i}" for i in range(3)]
        self._tmp += 3
        obj, key, cur = names
        stmts: list[ast.stmt] = [ast.Assign([ast.Name(obj, ast.Store())], target.value)]
        if isinstance(target, ast.Subscript):
            key_expr = target.slice
            if isinstance(key_expr, ast.Slice):
                none = ast.Constant(None)
                key_expr = ast.Call(ast.Name("slice", ast.Load()),
                                    [key_expr.lower or none, key_expr.upper or none, key_expr.step or none], [])
            stmts.append(ast.Assign([ast.Name(key, ast.Store())], key_expr))
            load: ast.expr = ast.Subscript(ast.Name(obj, ast.Load()), ast.Name(key, ast.Load()), ast.Load())
            store: ast.expr = ast.Subscript(ast.Name(obj, ast.Load()), ast.Name(key, ast.Load()), ast.Store())
        else:  # ast.Attribute
            load = ast.Attribute(ast.Name(obj, ast.Load()), target.attr, ast.Load())
            store = ast.Attribute(ast.Name(obj, ast.Load()), target.attr, ast.Store())
        stmts += [
            ast.Assign([ast.Name(cur, ast.Store())], load),
            ast.AugAssign(ast.Name(cur, ast.Store()), node.op, node.value),
            ast.Assign([store], ast.Name(cur, ast.Load())),
        ]
        for stmt in stmts:
            ast.copy_location(stmt, node)
            ast.fix_missing_locations(stmt)
        return stmts


class SandboxTransformer(RestrictingNodeTransformer):
    """RestrictedPython's rules, relaxed only where the runtime guards still hold the line."""

    def check_name(self, node: T_pos_ast, name: str | None,  # noqa: D401 - RestrictedPython's hook
                   allow_magic_methods: bool = False) -> None:
        if name is not None and name.startswith(TMP_PREFIX):
            return  # our own temporaries (user code using the prefix was refused in the pre-pass)
        if name is not None and name.startswith("_") and not name.startswith("__") and not _HOOK_NAME.match(name):
            return  # _helper names are ordinary locals
        if allow_magic_methods and name in DATA_MODEL_METHODS and getattr(node, "col_offset", 0) != 0:
            return  # a data-model method of a class (the guards never call node code's methods)
        if name == "__match_args__" and isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            return  # positional class patterns; make_class checks the names it lists
        return super().check_name(node, name, allow_magic_methods)

    def visit_Attribute(self, node: ast.Attribute) -> _VisitResult:
        attr = node.attr
        if isinstance(node.ctx, ast.Load) and (attr == "__name__" or (
                attr in DATA_MODEL_METHODS and _is_super_call(node.value))):
            # type(e).__name__ and super().__init__(...): read through the guard, which allows exactly these
            node = self.node_contents_visit(node)
            call = ast.Call(ast.Name("_getattr_", ast.Load()), [node.value, ast.Constant(attr)], [])
            copy_locations(call, node)
            return call
        if attr.startswith("_") and not attr.startswith("__") and not attr.endswith("_") \
                and attr not in DENIED_ATTRIBUTES:
            # single-underscore attribute: allowed here, checked at run time (own objects only)
            if isinstance(node.ctx, ast.Load):
                node = self.node_contents_visit(node)
                call = ast.Call(ast.Name("_getattr_", ast.Load()), [node.value, ast.Constant(attr)], [])
                copy_locations(call, node)
                return call
            node = self.node_contents_visit(node)
            wrapped = ast.Call(ast.Name("_write_", ast.Load()), [node.value], [])
            copy_locations(wrapped, node.value)
            node.value = wrapped
            return node
        if attr in DENIED_ATTRIBUTES:
            self.error(node, f'"{attr}" is a restricted attribute name.')
        return super().visit_Attribute(node)

    def visit_Nonlocal(self, node: ast.Nonlocal) -> ast.AST:
        for name in node.names:
            self.check_name(node, name)
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        if not isinstance(node.target, ast.Name):
            self.error(node, "annotated assignment is only allowed to a plain name")
            return node
        return self.node_contents_visit(node)

    # match statements: patterns hold names and dotted names the compiler needs as they are, so
    # they are checked here instead of being rewritten into guarded calls

    def visit_Match(self, node: ast.Match) -> ast.AST:
        return self.node_contents_visit(node)

    def visit_match_case(self, node: ast.match_case) -> ast.AST:
        return self.node_contents_visit(node)

    def visit_MatchValue(self, node: ast.MatchValue) -> ast.AST:
        self._check_pattern_value(node.value)
        return node

    def visit_MatchSingleton(self, node: ast.MatchSingleton) -> ast.AST:
        return node

    def visit_MatchSequence(self, node: ast.MatchSequence) -> ast.AST:
        return self.node_contents_visit(node)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> ast.AST:
        for key in node.keys:
            self._check_pattern_value(key)
        node.patterns = [self.visit(p) for p in node.patterns]
        if node.rest is not None:
            self.check_name(node, node.rest)
        return node

    def visit_MatchClass(self, node: ast.MatchClass) -> ast.AST:
        self._check_pattern_value(node.cls)
        for attr in node.kwd_attrs:
            if attr.startswith("_") or attr in DENIED_ATTRIBUTES or attr in GUARDED_PUBLIC_NAMES:
                self.error(node, f'"{attr}" is not allowed in a class pattern')
        node.patterns = [self.visit(p) for p in node.patterns]
        node.kwd_patterns = [self.visit(p) for p in node.kwd_patterns]
        return node

    def visit_MatchStar(self, node: ast.MatchStar) -> ast.AST:
        if node.name is not None:
            self.check_name(node, node.name)
        return node

    def visit_MatchAs(self, node: ast.MatchAs) -> ast.AST:
        if node.name is not None:
            self.check_name(node, node.name)
        if node.pattern is not None:
            node.pattern = self.visit(node.pattern)
        return node

    def visit_MatchOr(self, node: ast.MatchOr) -> ast.AST:
        return self.node_contents_visit(node)

    def _check_pattern_value(self, expr: ast.expr) -> None:
        """A value or class in a pattern: a literal, a name or a dotted name of public attributes."""
        while isinstance(expr, ast.Attribute):
            if expr.attr.startswith("_") or expr.attr in DENIED_ATTRIBUTES or expr.attr in GUARDED_PUBLIC_NAMES:
                self.error(expr, f'"{expr.attr}" is not allowed in a pattern')
            expr = expr.value
        if isinstance(expr, ast.Name):
            self.check_name(expr, expr.id)
        elif not isinstance(expr, (ast.Constant, ast.UnaryOp, ast.BinOp)):
            self.error(expr, "unexpected expression in a pattern")


def _is_super_call(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "super"


class _RecursionCeiling:
    """Raise the interpreter's recursion limit while compiling; restore it afterwards."""

    def __enter__(self) -> None:
        self.saved = sys.getrecursionlimit()
        sys.setrecursionlimit(max(self.saved, COMPILE_RECURSION_LIMIT))

    def __exit__(self, *exc: object) -> None:
        sys.setrecursionlimit(self.saved)


def compile_node(source: str, allowed_imports: frozenset[str], filename: str = "<node>") -> CodeType:
    """Compile node source to a code object, or raise CompileRefusal with every reason."""
    try:
        with _RecursionCeiling():
            return _compile(source, allowed_imports, filename)
    except (RecursionError, MemoryError) as exc:
        raise CompileRefusal([f"the code is nested too deeply to compile ({type(exc).__name__}): an expression "
                              f"may chain or nest up to about {NESTING_CEILING} operations"]) from None


def _compile(source: str, allowed_imports: frozenset[str], filename: str) -> CodeType:
    try:
        tree = ast.parse(source, filename, "exec")
    except SyntaxError as exc:
        raise CompileRefusal([f"Line {exc.lineno}: SyntaxError: {exc.msg}"]) from None
    except ValueError as exc:
        raise CompileRefusal([f"cannot parse the code: {type(exc).__name__}: {exc}"]) from None
    pre = _PrePass(allowed_imports)
    tree = pre.visit(tree)
    errors = list(pre.errors)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in UNAVAILABLE_BUILTINS \
                and node.id not in pre.bound:
            errors.append(f"Line {node.lineno}: {node.id}() is not available in the sandbox")
    if errors:
        raise CompileRefusal(errors)
    ast.fix_missing_locations(tree)
    try:
        result = compile_restricted_exec(tree, filename, policy=SandboxTransformer)
    except SyntaxError as exc:  # the bytecode compiler's own limits (e.g. too many nested blocks)
        raise CompileRefusal([f"Line {exc.lineno}: SyntaxError: {exc.msg}"]) from None
    if result.errors or result.code is None:
        raise CompileRefusal(list(result.errors) or ["compilation failed"])
    return result.code
