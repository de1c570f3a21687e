"""Load, check and save plans as YAML (code as literal blocks) or JSON.

Every failure is a `PlanError` naming the node and the field, whether it comes
from the parser, from pydantic or from the graph checks (cycles, dangling
reads, duplicate ids, unknown policies).
"""

from __future__ import annotations

import json
import re
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from . import strict_json
from .errors import PlanError, PolicyError
from .plan import Plan, split_ref
from .policy import builtin_policy_names, load_policy
from .yaml_load import load_yaml

_HASH_KEY = "content_hash"


# --- checks --------------------------------------------------------------------

def topological_order(plan: Plan) -> list[str]:
    """Node ids in dependency order (ties broken by file order, so runs are deterministic)."""
    node_ids = [n.id for n in plan.nodes]
    graph = {n.id: [r for r in n.reads if r in node_ids] for n in plan.nodes}
    sorter = TopologicalSorter(graph)
    try:
        sorter.prepare()
    except CycleError as exc:
        cycle = exc.args[1]
        raise PlanError(f"the nodes form a cycle: {' -> '.join(cycle)}", node=cycle[0], field="reads") from None
    position = {node_id: i for i, node_id in enumerate(node_ids)}
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=position.__getitem__)
        order.extend(ready)
        sorter.done(*ready)
    return order


def check_plan(plan: Plan, *, base_dir: Path | None = None) -> Plan:
    """Cross-node rules pydantic cannot see; returns the plan unchanged."""
    seen: set[str] = set()
    for node in plan.all_nodes():  # ids are unique plan-wide, sub-plan nodes included
        if node.id in seen:
            raise PlanError(f"duplicate node id {node.id!r}", node=node.id, field="id")
        if node.id in plan.inputs:
            raise PlanError(f"node id {node.id!r} shadows a plan input of the same name", node=node.id, field="id")
        seen.add(node.id)
    known = set(plan.inputs) | {n.id for n in plan.nodes}  # a sub-plan's nodes are read only inside it
    for node in plan.nodes:
        for ref in node.reads:
            if ref not in known:
                inner = " (a node inside a consensus body, which only that body can read)" if ref in seen else ""
                raise PlanError(f"reads {ref!r}, which is neither a plan input nor a node{inner}", node=node.id,
                                field="reads")
            if ref == node.id:
                raise PlanError("a node cannot read itself", node=node.id, field="reads")
    for code in plan.code_nodes():
        if code.policy is not None:
            _check_policy_name(code.policy, code.id, base_dir)
    out_node, _ = split_ref(plan.output.source)
    if out_node not in known:
        raise PlanError(f"output reads {out_node!r}, which is neither a plan input nor a node", field="output.from")
    topological_order(plan)
    return plan


def _check_policy_name(name: str, node_id: str, base_dir: Path | None) -> None:
    if name in builtin_policy_names():
        return
    path = Path(name) if base_dir is None or Path(name).is_absolute() else base_dir / name
    if not path.is_file():
        raise PlanError(f"unknown policy {name!r} (shipped: {builtin_policy_names()}, or a path to a policy file)",
                        node=node_id, field="policy")
    try:
        load_policy(path)
    except PolicyError as exc:
        raise PlanError(exc.message, node=node_id, field="policy") from None


# --- parsing -------------------------------------------------------------------

def parse_plan(data: Any, *, base_dir: Path | None = None) -> Plan:
    """Validate a decoded YAML/JSON document into a checked Plan."""
    if not isinstance(data, dict):
        raise PlanError("a plan must be a mapping at the top level")
    broken = strict_json.problem(data)  # YAML, and a plan built in code or sent to a service, meet JSON's rules
    if broken is not None:
        raise PlanError(f"the plan breaks a JSON rule: {broken}", limit=broken.limit)
    data = dict(data)
    recorded_hash = data.pop(_HASH_KEY, None)
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        raise _plan_error(exc, data) from None
    check_plan(plan, base_dir=base_dir)
    if recorded_hash is not None and recorded_hash != plan.content_hash():
        raise PlanError("the plan changed after it was hashed (content_hash does not match); review the change, "
                        "then re-save the plan or delete the content_hash line", field=_HASH_KEY,
                        value=plan.content_hash())
    return plan


def _plan_error(exc: ValidationError, data: dict[Any, Any]) -> PlanError:  # the decoded YAML/JSON mapping
    err = exc.errors()[0]
    loc = list(err["loc"])
    node_id = None
    if len(loc) >= 2 and loc[0] == "nodes" and isinstance(loc[1], int):
        raw_nodes = data.get("nodes") or []
        raw = raw_nodes[loc[1]] if loc[1] < len(raw_nodes) else None
        node_id = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else f"#{loc[1]}"
        loc = loc[2:]
        # drop the discriminator tag pydantic puts in the path (nodes.0.llm.user -> user)
        if loc and loc[0] in ("llm", "code", "consensus"):
            loc = loc[1:]
    message = err["msg"]
    if err["type"] == "union_tag_invalid":
        message = f"unknown kind {err.get('input', {}).get('kind')!r} (known: llm, code, consensus)" \
            if isinstance(err.get("input"), dict) else message
        loc = loc[:-1] + ["kind"] if not loc or loc[-1] != "kind" else loc
    if err["type"] == "union_tag_not_found":
        loc = loc + ["kind"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    field = ".".join(str(p) for p in loc if not (isinstance(p, str) and p.startswith("function-"))) or None
    # cross-field rules say which field they are about as "field: message"
    prefixed = re.match(r"^([a-z_][a-z0-9_.]*): ", message)
    if prefixed:
        field = f"{field}.{prefixed.group(1)}" if field else prefixed.group(1)
    return PlanError(message, node=node_id, field=field)


def load_plan(path: str | Path) -> Plan:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanError(f"plan file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"cannot read plan file {path}: {exc}") from None
    return loads_plan(text, base_dir=path.parent, json_format=path.suffix == ".json")


def loads_plan(text: str, *, base_dir: Path | None = None, json_format: bool = False) -> Plan:
    try:
        data = strict_json.loads(text) if json_format else load_yaml(text)
    except (json.JSONDecodeError, strict_json.NotStrictJson, yaml.YAMLError) as exc:
        raise PlanError(f"not valid {'JSON' if json_format else 'YAML'}: {exc}") from None
    return parse_plan(data, base_dir=base_dir)


# --- saving --------------------------------------------------------------------

class _PlanDumper(yaml.SafeDumper):  # type: ignore[misc]  # PyYAML ships no type hints: its classes are Any
    """Multi-line strings (code, prompts) as literal blocks, so a diff reads like the code; no aliases (a
    repeated value is written out again: the loader refuses aliases, see yaml_load.py)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


#: YAML line breaks PyYAML writes unescaped in plain/quoted/block styles and then reads back changed
_YAML_BREAKS = ("\x85", "\u2028", "\u2029")


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if any(ch in value for ch in _YAML_BREAKS):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')  # escaped: \N, \L, \P
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_PlanDumper.add_representer(str, _str_representer)


def plan_document(plan: Plan) -> dict[str, Any]:
    doc = plan.model_dump(mode="json", by_alias=True, exclude_none=True)
    doc["nodes"] = [_id_and_kind_first(node) for node in doc["nodes"]]
    doc[_HASH_KEY] = plan.content_hash()
    return doc


def _id_and_kind_first(node: dict[str, Any]) -> dict[str, Any]:
    """A reviewer reads a node's id and kind first."""
    if isinstance(node.get("child"), dict):
        node = {**node, "child": _id_and_kind_first(node["child"])}
    if isinstance(node.get("body"), dict):
        node = {**node, "body": {**node["body"], "nodes": [_id_and_kind_first(n) for n in node["body"]["nodes"]]}}
    return {"id": node["id"], "kind": node["kind"], **node}


def dumps_yaml(plan: Plan) -> str:
    text: str = yaml.dump(plan_document(plan), Dumper=_PlanDumper, sort_keys=False, allow_unicode=True, width=100)
    return text  # no stream given: PyYAML returns the document as a str


def dumps_json(plan: Plan) -> str:
    return json.dumps(plan_document(plan), indent=2, ensure_ascii=False) + "\n"


def save_plan(plan: Plan, path: str | Path) -> None:
    path = Path(path)
    text = dumps_json(plan) if path.suffix == ".json" else dumps_yaml(plan)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
