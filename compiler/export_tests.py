"""`sgde export-tests`: a plan's property tests as a standalone pytest file, for the deploying team's CI.

The file embeds each code node's properties (input strategies, invariants,
fixed examples, number of draws) as literal JSON, frozen at export. At test
time it loads the plan (the file beside it, or ``SGDE_EXPORT_PLAN``) and
checks every node's *current* code against those frozen properties, in the
sandbox, under the policy the node would run under (`Executor.policies`:
the deployment policy tightened by the node's own). Hypothesis runs in the
generated file itself (derandomized), so a failure shows its falsifying
example. The file imports only sgde, hypothesis, pytest and the stdlib.

The text depends only on the plan, the two paths (relative to each other)
and the policy: the same plan exports byte for byte the same file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from sgde.runtime import __version__
from sgde.runtime.errors import PlanError
from sgde.runtime.executor import Executor
from sgde.runtime.plan import CodeNode, Plan
from sgde.runtime.policy import Policy, load_policy

#: the environment variable that points the exported tests at another copy of the plan
PLAN_ENV = "SGDE_EXPORT_PLAN"

_RULE = "# " + "-" * 98

_PREAMBLE = '''\
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from sgde.compiler.properties import invariant_program, matches, to_strategy
from sgde.runtime.errors import SandboxError
from sgde.runtime.executor import Executor
from sgde.runtime.plan import CodeNode, Properties
from sgde.runtime.plan_io import load_plan
from sgde.runtime.policy import load_policy

HERE = Path(__file__).resolve().parent
#: the plan checked, relative to this file; SGDE_EXPORT_PLAN=PATH checks another copy
PLAN_FILE = {plan_file}
#: the deployment policy; each node's own policy and policy_override tighten it, as in `sgde run`
POLICY = {policy}


def plan_path() -> Path:
    return Path(os.environ.get("SGDE_EXPORT_PLAN") or HERE / PLAN_FILE)


def draws(exported: dict) -> st.SearchStrategy:
    """Inputs for run(), one strategy per read, drawn as the compiler drew them."""
    spec = Properties.model_validate(exported)
    return st.fixed_dictionaries({{name: to_strategy(s) for name, s in spec.inputs.items()}})


class PlanUnderTest:
    """The plan as it is now: each code node's current code, run in its sandbox under its resolved policy."""

    def __init__(self, path: Path) -> None:
        self.path = path
        plan = load_plan(path)
        code_nodes = tuple(plan.code_nodes())  # consensus sub-plans' code nodes too
        # these tests check code: no student is loaded, and approval is checked where the plan is deployed
        deployment = load_policy(POLICY).model_copy(update={{"require_approval": False}})
        self.executor = Executor(plan.model_copy(update={{"nodes": code_nodes}}), policy=deployment,
                                 plan_dir=path.parent)

    def __repr__(self) -> str:
        return f"PlanUnderTest({{str(self.path)!r}})"

    def close(self) -> None:
        self.executor.close()

    def node(self, node_id: str, exported: dict) -> CodeNode:
        try:
            node = self.executor.plan.node(node_id)
        except KeyError:
            pytest.fail(f"node {{node_id!r}}: {{self.path}} has no code node of that id")
        if node.source is None:
            pytest.fail(f"node {{node_id!r}}: no longer has fixed code (source_from {{node.source_from!r}})")
        reads = sorted(r for r in node.reads if r != node.source_from)
        if reads != sorted(exported["inputs"]):
            pytest.fail(f"node {{node_id!r}}: now reads {{reads}}, its exported properties draw "
                        f"{{sorted(exported['inputs'])}}; re-export the tests")
        return node

    def run(self, node_id: str, exported: dict, inputs: dict) -> dict:
        """run(inputs) of the node's current code, in the sandbox (a failure is a SandboxError naming the node)."""
        node = self.node(node_id, exported)
        policy = self.executor.policies[node_id]
        backend = self.executor.sandbox(policy.backend)
        return backend.run(Executor.entry_source(node, node.source), inputs, policy, node=node_id, fixed=True).output

    def invariants(self, node_id: str, exported: dict, inputs: dict, output: dict) -> list[bool]:
        """One verdict per exported invariant; the expressions run in the sandbox too."""
        if not exported["invariants"]:
            return []
        policy = self.executor.policies[node_id]
        backend = self.executor.sandbox(policy.backend)
        try:
            return backend.run(invariant_program(exported["invariants"]), {{"inputs": inputs, "output": output}},
                               policy, node=node_id, fixed=True).output["holds"]
        except SandboxError as exc:
            raise AssertionError(f"node {{node_id!r}}: an invariant failed to evaluate on inputs {{inputs!r}}, "
                                 f"output {{output!r}}: {{exc.type_name}}: {{exc.message}}") from None


@pytest.fixture(scope="module")
def plan_under_test():
    """One plan, one executor and one sandbox backend per backend name for the whole module, closed at the end."""
    checker = PlanUnderTest(plan_path())
    yield checker
    checker.close()
'''

_PROPERTY_TEST = '''\
@settings(max_examples={max_examples}, derandomize=True, database=None, deadline=None,
          phases=(Phase.explicit, Phase.generate), suppress_health_check=list(HealthCheck),
          report_multiple_bugs=False)
@given(inputs=draws({const}))
def test_{node}_properties(plan_under_test, inputs):
    output = plan_under_test.run({node_lit}, {const}, inputs)
    verdicts = plan_under_test.invariants({node_lit}, {const}, inputs, output)
    for invariant, holds in zip({const}["invariants"], verdicts):
        assert holds, (f"node {node_repr}: invariant {{invariant!r}} is false on inputs {{inputs!r}}, "
                       f"output {{output!r}}")
'''

_EXAMPLE_TEST = '''\
@pytest.mark.parametrize("example", {const}["examples"],
                         ids=[f"example{{n}}" for n in range(1, len({const}["examples"]) + 1)])
def test_{node}_examples(plan_under_test, example):
    output = plan_under_test.run({node_lit}, {const}, example["inputs"])
    wrong = {{key: output.get(key) for key, want in example["output"].items()
             if not matches(want, output.get(key))}}
    assert not wrong, (f"node {node_repr}: on inputs {{example['inputs']!r}} expected {{example['output']!r}}, "
                       f"got {{wrong!r}}")
'''


def testable_nodes(plan: Plan) -> list[CodeNode]:
    """Code nodes with fixed (teacher-written) code and recorded properties: what an export checks."""
    return [n for n in plan.code_nodes() if n.source is not None and n.properties is not None]


def export_tests(plan: Plan, plan_path: Path, out_path: Path, *, policy: str = "default") -> str:
    """The text of a pytest file that checks ``plan``'s code nodes against their properties.

    ``plan_path`` is where ``plan`` was loaded from and ``out_path`` where the text will be
    written: the file finds the plan by their relative path. ``policy`` is the deployment
    policy (a shipped name or a YAML file). Raises PlanError when there is nothing to test
    or a node's properties do not fit its reads, PolicyError/PlanError when a node's policy
    does not resolve.
    """
    nodes = testable_nodes(plan)
    if not nodes:
        raise PlanError(_nothing_to_test(plan), field="nodes")
    for node in nodes:
        reads = sorted(r for r in node.reads if r != node.source_from)
        drawn = sorted(node.properties.inputs) if node.properties else []
        if reads != drawn:  # the compiler refuses such code; a hand-edited plan may still have it
            raise PlanError(f"properties.inputs must give one strategy per read {reads} (it gives {drawn})",
                            node=node.id, field="properties.inputs")
    out_dir = Path(os.path.abspath(out_path)).parent
    policy_file = _policy_file(policy, out_dir)
    _check_policies(plan, plan_path, load_policy(policy))
    plan_file = _relative(plan_path, out_dir)

    parts = [_header(plan, plan_file, out_path.name, policy_file or policy),
             _PREAMBLE.format(plan_file=_literal(plan_file),
                              policy=f"HERE / {_literal(policy_file)}" if policy_file else _literal(policy))]
    for node in plan.code_nodes():
        parts.append(_node_section(node))
    return "\n\n\n".join(part.rstrip("\n") for part in parts) + "\n"


# --- parts of the file ---------------------------------------------------------------

def _header(plan: Plan, plan_file: str, out_name: str, policy: str) -> str:
    nodes = testable_nodes(plan)
    width = max(len(n.id) for n in nodes)
    lines = [
        f"# Property tests of the code nodes of the sgde plan {plan.name!r}, exported by `sgde export-tests`.",
        "# Generated: do not edit. Re-export when the plan's properties change.",
        "#",
        f"#   plan          {_comment(plan_file)} (relative to this file; {PLAN_ENV}=PATH checks another copy)",
        f"#   content_hash  {plan.content_hash()}",
        f"#   sgde          {__version__}",
        f"#   policy        {_comment(policy)} (the deployment policy; each node's own policy tightens it)",
        "#",
        f"#   {'node'.ljust(width)}  {'sha256 of the code at export'.ljust(64)}  draws  invariants  examples",
    ]
    for node in nodes:
        props = node.properties
        assert props is not None
        lines.append(f"#   {node.id.ljust(width)}  {node.sha256}  {props.max_examples:>5}  "
                     f"{len(props.invariants):>10}  {len(props.examples):>8}")
    lines += [
        "#",
        f"# Run (in this directory):  python -m pytest {_comment(out_name)} -q",
        "#",
        "# The tests load the plan when they run and check each node's code AS IT IS THEN against the",
        "# properties below, frozen at export: the inputs hypothesis draws (derandomized), the invariants that",
        "# must hold for every draw, and the fixed examples (numbers within 1e-3). The code and the invariants",
        "# run in the sandbox under the node's policy, as `sgde run` runs them; no student model is needed.",
    ]
    return "\n".join(lines)


def _node_section(node: CodeNode) -> str:
    lines = [_RULE, f"# node {node.id!r}" + (f": {_comment(node.description)}" if node.description else "")]
    if node.source is None:
        lines += [f"# runs student-written code (source_from {node.source_from!r}), written at run time: there is",
                  "# no code to test before it runs. The sandbox and the node's policy are all that stand between",
                  "# that code and the machine."]
        return "\n".join(lines)
    if node.properties is None:
        lines += [f"# fixed code (sha256 {node.sha256}), but the plan records no properties for it: nothing to check."]
        return "\n".join(lines)
    props = node.properties
    const = f"{node.id.upper()}_PROPERTIES"
    lines += [f"# sha256 of the code at export: {node.sha256}", _RULE, "",
              f"{const} = json.loads(r'''", _json_block(props.model_dump(mode="json", exclude_none=True)), "''')",
              "", ""]
    fields = dict(const=const, node=node.id, node_lit=_literal(node.id), node_repr=repr(node.id),
                  max_examples=props.max_examples)
    lines.append(_PROPERTY_TEST.format(**fields))
    if props.examples:
        lines += ["", _EXAMPLE_TEST.format(**fields)]
    return "\n".join(lines)


def _json_block(data: object) -> str:
    """JSON that is safe inside r'''...''': ASCII only, and no run of three quotes (JSON escapes them)."""
    text = json.dumps(data, indent=2, ensure_ascii=True)
    return text.replace("'''", "\\u0027\\u0027\\u0027")


def _literal(text: str) -> str:
    """A Python string literal (ASCII, double quotes)."""
    return json.dumps(text, ensure_ascii=True)


def _comment(text: str) -> str:
    """Text on one comment line: line breaks (as Python or any editor counts them) become spaces."""
    return " ".join(text.splitlines())


# --- policy ----------------------------------------------------------------------------

def _policy_file(policy: str, out_dir: Path) -> str | None:
    """A policy given as a file, relative to the generated file (None for a shipped policy's name)."""
    path = Path(policy)
    if path.suffix in (".yaml", ".yml") or path.exists():  # what load_policy takes for a file
        return _relative(path, out_dir)
    return None


def _relative(path: Path | str, out_dir: Path) -> str:
    return Path(os.path.relpath(os.path.abspath(path), out_dir)).as_posix()


def _check_policies(plan: Plan, plan_path: Path, deployment: Policy) -> None:
    """Every code node's policy resolves against the deployment's, as the tests will resolve it."""
    executor = Executor(plan.model_copy(update={"nodes": tuple(plan.code_nodes())}),
                        policy=deployment.model_copy(update={"require_approval": False}),
                        plan_dir=Path(plan_path).parent)
    executor.close()


def _nothing_to_test(plan: Plan) -> str:
    code = plan.code_nodes()
    detail = [f"node {n.id!r} runs student-written code (source_from {n.source_from!r}), which exists only at "
              "run time" for n in code if n.source is None]
    detail += [f"node {n.id!r} has fixed code but no properties" for n in code if n.source is not None]
    return ("no code node has fixed code with properties, so there are no property tests to export: "
            + ("; ".join(detail) if detail else "the plan has no code nodes"))
