"""The README's examples stay true: its plan validates, its policy is the shipped default."""

from __future__ import annotations

import re

import yaml

from sgde.runtime.plan_io import parse_plan
from sgde.runtime.policy import Policy, load_policy
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def _yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", README, re.DOTALL)


def test_readme_plan_example_is_a_valid_plan():
    plan = parse_plan(yaml.safe_load(_yaml_blocks()[0]))
    assert [n.kind for n in plan.nodes] == ["llm", "code", "consensus", "consensus"]


def test_readme_policy_example_is_the_shipped_default():
    assert Policy.model_validate(yaml.safe_load(_yaml_blocks()[1])) == load_policy("default")


def test_readme_documents_every_command():
    from typer.main import get_command

    from sgde.compiler.cli import app
    group = get_command(app)
    names = {f"sgde {name}" for name in group.commands if name not in ("sandbox", "model", "key")}
    names |= {f"sgde {group_name} {sub}" for group_name in ("sandbox", "model", "key")
              for sub in group.commands[group_name].commands}
    for name in names:
        assert name in README, f"{name} is not documented in the README"


def test_readme_lists_every_gadget_decision():
    """The security section's table is the facade code's own list of dropped and wrapped members."""
    from sgde.runtime.sandbox.runner.facades import DROPPED, WRAPPED_WHY
    rows = set(re.findall(r"^\s*\| `([\w.]+)` \| (dropped|wrapped) \|", README, re.MULTILINE))
    expected = {(f"{module}.{name}", "dropped") for module, names in DROPPED.items() for name in names
                if not name.startswith("HAVE_")} | {(name, "wrapped") for name in WRAPPED_WHY}
    assert rows == expected


def test_shipped_seccomp_profile_is_the_generated_one():
    """sandbox_images/seccomp.json is what syscalls.py generates (regenerate it after changing the lists)."""
    from sgde.runtime.sandbox.syscalls import docker_profile_json
    assert (REPO / "sandbox_images" / "seccomp.json").read_text() == docker_profile_json()


def _synopsis() -> dict[str, str]:
    """The Command line section's synopsis: command path -> its text (continuation lines included)."""
    section = README.split("## Command line", 1)[1]
    block = section.split("```text\n", 1)[1].split("```", 1)[0]
    entries: dict[str, str] = {}
    current = None
    for line in block.splitlines():
        if line.startswith("sgde "):
            words = [w for w in line.split()[1:] if re.fullmatch(r"[a-z][a-z-]*", w)]
            current = " ".join(["sgde", *words[:2]])
            entries[current] = line
        elif current is not None:
            entries[current] += " " + line.strip()
    return entries


def _commands():
    from typer.main import get_command

    from sgde.compiler.cli import app

    def walk(cmd, path):
        if hasattr(cmd, "commands"):
            yield path, cmd
            for name, sub in cmd.commands.items():
                yield from walk(sub, [*path, name])
        else:
            yield path, cmd
    return list(walk(get_command(app), ["sgde"]))


def test_the_synopsis_matches_every_command_s_help():
    """Generated from nothing, checked against --help: a new option or argument the README misses fails here."""
    synopsis = _synopsis()
    for path, cmd in _commands():
        if hasattr(cmd, "commands") and len(path) > 1:
            continue  # a group: its commands are checked one by one
        name = " ".join(path) if len(path) > 1 else "sgde [--log-format"
        text = next((v for k, v in synopsis.items() if k == name or (len(path) == 1 and v.startswith("sgde ["))),
                    None)
        assert text is not None, f"{' '.join(path)} has no line in the README's synopsis"
        options = {max(p.opts, key=len) for p in cmd.params if type(p).__name__.endswith("Option") and p.name != "help"}
        arguments = {p.metavar or p.name.upper() for p in cmd.params if type(p).__name__.endswith("Argument")}
        for option in options:
            assert re.search(re.escape(option) + r"\b", text), f"{' '.join(path)}: {option} is missing in the synopsis"
        for argument in arguments:
            assert argument in text, f"{' '.join(path)}: argument {argument} is missing in the synopsis"
        for written in set(re.findall(r"--[a-z][a-z-]*", text)):
            assert written in options, f"{' '.join(path)}: the synopsis names {written}, which the command lacks"
