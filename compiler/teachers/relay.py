"""A file-drop teacher: `command:python -m sgde.compiler.teachers.relay --dir DIR`.

Each request is written to DIR/request-N.json; the answer is awaited in
DIR/response-N.json (written by a person, or by an agent watching the folder)
and printed. `--check DIR/draft-response-N.json` validates an answer against
request N's schema before it is moved into place, so a slip costs no call.

When the compile ends, `sgde compile` writes DIR/outcome.json (whether it
converged, the stop reason or the error, every candidate's verdict and score,
where the plan went): the relay's teacher learns how its answers fared.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
import time
from pathlib import Path

from sgde.runtime import strict_json
from sgde.runtime.settings import setting_or_exit


def _next_index(folder: Path) -> int:
    return len(list(folder.glob("request-*.json"))) + 1


def relay(folder: Path, timeout_s: float, poll_s: float = 0.5) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    request = sys.stdin.read()
    index = _next_index(folder)
    tmp = folder / f".request-{index}.tmp"
    tmp.write_text(request, encoding="utf-8")
    tmp.replace(folder / f"request-{index}.json")
    response = folder / f"response-{index}.json"
    print(f"relay: waiting for {response}", file=sys.stderr)
    deadline = time.monotonic() + timeout_s
    while not response.exists():
        if time.monotonic() > deadline:
            print(f"relay: no {response} within {timeout_s:g} s", file=sys.stderr)
            return 3
        time.sleep(poll_s)
    time.sleep(poll_s)  # let a writer that does not rename finish
    sys.stdout.write(response.read_text(encoding="utf-8"))
    return 0


OUTCOME_FILE = "outcome.json"


def relay_dir(spec: str) -> Path | None:
    """The --dir of a ``command:`` teacher spec that runs this relay (None for any other teacher)."""
    kind, _, command = spec.partition(":")
    if kind != "command":
        return None
    try:
        argv = shlex.split(command)
    except ValueError:
        return None
    pairs = zip(argv, argv[1:], strict=False)
    runs_relay = any(a == "-m" and b == __spec__.name for a, b in pairs) if __spec__ else False
    runs_relay = runs_relay or any(Path(arg).resolve() == Path(__file__).resolve() for arg in argv
                                   if arg.endswith("relay.py"))
    if not runs_relay:
        return None
    for flag, value in zip(argv, argv[1:], strict=False):
        if flag == "--dir":
            return Path(value)
    folder = next((arg.removeprefix("--dir=") for arg in argv if arg.startswith("--dir=")), None)
    return Path(folder) if folder else None


def write_outcome(folder: Path, outcome: dict) -> Path:
    """DIR/outcome.json, written whole (a reader never sees half of it)."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{OUTCOME_FILE}.tmp"
    tmp.write_text(json.dumps(outcome, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    target = folder / OUTCOME_FILE
    tmp.replace(target)
    return target


def check(response_path: Path) -> int:
    import jsonschema

    number = re.search(r"response-(\d+)", response_path.name)
    if number is None:
        print(f"{response_path.name}: the name must contain response-N (N: the request's number)")
        return 2
    request_path = response_path.with_name(f"request-{number.group(1)}.json")
    request = json.loads(request_path.read_text(encoding="utf-8"))
    try:
        answer = strict_json.loads(response_path.read_text(encoding="utf-8"))
    except ValueError as exc:  # bad syntax, or a strict_json rule broken
        print(f"not JSON sgde takes: {exc}")
        return 1
    answer = answer.get("response", answer) if isinstance(answer, dict) and set(answer) <= {"response", "usage"} \
        else answer
    errors = sorted(jsonschema.Draft202012Validator(request["response_schema"]).iter_errors(answer),
                    key=lambda e: list(e.absolute_path))
    for error in errors[:10]:
        print(f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message[:300]}")
    print("ok" if not errors else f"{len(errors)} schema errors")
    return 1 if errors else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, help="folder for request-N.json / response-N.json")
    parser.add_argument("--timeout", type=float, default=setting_or_exit("relay_timeout"))  # SGDE_RELAY_TIMEOUT
    parser.add_argument("--check", type=Path, help="validate a response file against its request's schema")
    args = parser.parse_args()
    if args.check:
        raise SystemExit(check(args.check))
    if not args.dir:
        parser.error("--dir is required")
    raise SystemExit(relay(args.dir, args.timeout))


if __name__ == "__main__":
    main()
