"""Static audit of generated code: an AST allow-list, then bandit for what it adds.

Generated code is hostile until proven otherwise. The allow-list is the
decision (anything not listed is refused, with the line); bandit is a second
opinion whose medium/high findings also refuse and whose low ones are kept
for the reviewer. The sandbox still runs everything: this audit only keeps
code that no reviewer should have to read out of the plan.
"""

from __future__ import annotations

import ast
import logging
import tempfile
import warnings
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from .errors import CodeRejected

_ALLOWED_NODES = (
    ast.Module, ast.Expression, ast.FunctionDef, ast.arguments, ast.arg, ast.Return, ast.Assign, ast.AugAssign,
    ast.AnnAssign, ast.For, ast.While, ast.If, ast.Expr, ast.Pass, ast.Break, ast.Continue, ast.Import,
    ast.ImportFrom, ast.alias, ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.Call, ast.IfExp, ast.Dict,
    ast.Set, ast.List, ast.Tuple, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.comprehension,
    ast.Constant, ast.Name, ast.Load, ast.Store, ast.Attribute, ast.Subscript, ast.Slice, ast.JoinedStr,
    ast.FormattedValue, ast.keyword, ast.Try, ast.ExceptHandler, ast.Raise, ast.Assert, ast.Lambda, ast.Starred,
    ast.NamedExpr, ast.operator, ast.boolop, ast.unaryop, ast.cmpop, ast.expr_context,
)
#: builtins that reach around the sandbox's guards or the host
_FORBIDDEN_NAMES = frozenset({
    "eval", "exec", "compile", "open", "__import__", "globals", "locals", "vars", "getattr", "setattr", "delattr",
    "input", "breakpoint", "help", "memoryview", "exit", "quit", "dir", "object", "classmethod", "staticmethod",
    "property", "super", "__builtins__",
})
_BLOCKING_SEVERITY = ("MEDIUM", "HIGH")


class Finding(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tool: str
    rule: str
    line: int
    severity: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message} [{self.tool} {self.rule}, {self.severity.lower()}]"


class AuditReport(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    findings: tuple[Finding, ...] = ()

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.severity in _BLOCKING_SEVERITY]


def allow_list_findings(source: str, *, allowed_imports: tuple[str, ...], mode: str = "exec") -> list[Finding]:
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as exc:
        return [Finding(tool="ast", rule="syntax", line=exc.lineno or 0, severity="HIGH",
                        message=f"syntax error: {exc.msg}")]
    found = []

    def refuse(node: ast.AST, rule: str, message: str) -> None:
        found.append(Finding(tool="ast", rule=rule, line=getattr(node, "lineno", 0), severity="HIGH",
                             message=message))

    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            refuse(node, "node", f"{type(node).__name__} is not allowed in generated code")
        elif isinstance(node, ast.Name) and (node.id in _FORBIDDEN_NAMES or node.id.startswith("_")):
            refuse(node, "name", f"the name {node.id!r} is not allowed")
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            refuse(node, "attribute", f"the attribute {node.attr!r} is not allowed (underscore names are private)")
        elif isinstance(node, ast.FunctionDef) and (node.decorator_list or node.name.startswith("_")):
            refuse(node, "function", f"function {node.name!r}: no decorators and no underscore names")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for module in modules:
                if module.split(".")[0] not in allowed_imports or (isinstance(node, ast.ImportFrom) and node.level):
                    refuse(node, "import", f"import of {module!r} is not allowed (allowed: {list(allowed_imports)})")
    return found


def bandit_issues(source: str) -> list:
    """bandit's issue objects for one source text (severity, confidence, CWE, line, text)."""
    with tempfile.TemporaryDirectory(prefix="sgde-audit-") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bandit's (and its plugins') own deprecations are not the code's findings
        from bandit.core import config as bandit_config
        from bandit.core import manager as bandit_manager

        path = Path(tmp) / "generated.py"
        path.write_text(source, encoding="utf-8")
        logging.getLogger("bandit").setLevel(logging.ERROR)
        manager = bandit_manager.BanditManager(bandit_config.BanditConfig(), "file")
        manager.discover_files([str(path)])
        manager.run_tests()
        return manager.get_issue_list()


def bandit_findings(source: str) -> list[Finding]:
    return [Finding(tool="bandit", rule=i.test_id, line=i.lineno if isinstance(i.lineno, int) else 0,
                    severity=str(i.severity), message=i.text) for i in bandit_issues(source)]


def audit_source(source: str, *, allowed_imports: tuple[str, ...], node: str, entrypoint: str | None = "run",
                 use_bandit: bool = True) -> AuditReport:
    """Refuse (CodeRejected naming the node and line) or return the non-blocking findings."""
    findings = allow_list_findings(source, allowed_imports=allowed_imports)
    if not findings and entrypoint is not None:
        tree = ast.parse(source)
        if not any(isinstance(n, ast.FunctionDef) and n.name == entrypoint for n in tree.body):
            findings.append(Finding(tool="ast", rule="entrypoint", line=1, severity="HIGH",
                                    message=f"no top-level function {entrypoint}()"))
    if not findings and use_bandit:
        findings = bandit_findings(source)
    report = AuditReport(findings=tuple(findings))
    if report.blocking:
        raise CodeRejected("static audit refused the code: " + "; ".join(str(f) for f in report.blocking[:5]),
                           node=node, field="source", value=[f.model_dump() for f in report.blocking])
    return report


def audit_expression(expression: str, *, node: str) -> None:
    """An invariant is one expression over `inputs` and `output`, held to the same allow-list."""
    findings = allow_list_findings(expression, allowed_imports=(), mode="eval")
    if findings:
        raise CodeRejected(f"invariant {expression!r} refused: " + "; ".join(str(f) for f in findings[:3]),
                           node=node, field="properties.invariants")
