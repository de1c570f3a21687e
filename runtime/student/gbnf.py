"""Grammars parsed, and derived from JSON schemas, by llama.cpp in a child process before the host uses them.

llama.cpp parses a grammar recursively and without bounds: some 30,000 nested parentheses (60 KB of text)
overflow the C stack and kill the process that asked, a segfault no Python code can catch. Its JSON-schema
converter has no bounds either: ``minItems: 100000000`` makes a 1.8 GB grammar in 37 s. A plan's grammar and
schema are teacher-written, so they are hostile until parsed: the first parse of each happens in a short-lived
child with a memory and CPU ceiling, and a crash, a timeout or a parse error there is a reason in words.

Run as ``python -m sgde.runtime.student.gbnf`` it is that child: one JSON request on stdin
(``{"gbnf": text}`` or ``{"json_schema": schema}``), one JSON line out.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from typing import Any

MAX_GBNF_CHARS = 262_144  # a plan's hand-written grammar is a few lines; the local teacher's derived one 34 KB
CHECK_TIMEOUT_S = 30.0
CHILD_MEMORY_BYTES = 1 << 30  # address space the work may add to the child's
CHILD_CPU_S = 10
CHILD_STACK_BYTES = 8 << 20


def gbnf_problem(text: str) -> str | None:
    """Why llama.cpp would refuse (or crash on) this grammar, or None when it parses with a ``root`` rule.
    Needs llama-cpp-python installed (the child imports it); no model is loaded."""
    if len(text) > MAX_GBNF_CHARS:
        return f"the grammar has {len(text):,} characters, more than the limit of {MAX_GBNF_CHARS:,}"
    if "\x00" in text:
        return "the grammar contains a NUL character (llama.cpp would read only the text before it)"
    return _ask(json.dumps({"gbnf": text}))[1]


def grammar_from_json_schema(schema: dict[str, Any]) -> tuple[str | None, str | None]:
    """(the GBNF llama.cpp's converter derives from ``schema``, None) once it parses, else (None, why not)."""
    try:
        request = json.dumps({"json_schema": schema}, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        return None, f"the schema is not plain JSON: {exc}"
    return _ask(request)


_VERDICTS: dict[str, tuple[str | None, str | None]] = {}  # request -> verdict (not the transient failures)
_MAX_VERDICTS = 256
_LOCK = threading.Lock()


def _ask(request: str) -> tuple[str | None, str | None]:
    with _LOCK:
        if request in _VERDICTS:
            return _VERDICTS[request]
    try:
        done = subprocess.run([sys.executable, "-m", __name__], input=request.encode("utf-8"), capture_output=True,
                              timeout=CHECK_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return None, f"llama.cpp's grammar code did not finish within {CHECK_TIMEOUT_S:g} s"
    except OSError as exc:  # e.g. no process can be started now
        return None, f"the grammar check could not start: {exc}"
    verdict = _verdict(done)
    known = {request: verdict}
    if verdict[0] is not None:  # a derived grammar parsed in the child: its text needs no second child
        known[json.dumps({"gbnf": verdict[0]})] = (verdict[0], None)
    with _LOCK:
        for key, value in known.items():
            if len(_VERDICTS) >= _MAX_VERDICTS:
                _VERDICTS.pop(next(iter(_VERDICTS)))
            _VERDICTS[key] = value
    return verdict


def _verdict(done: subprocess.CompletedProcess[bytes]) -> tuple[str | None, str | None]:
    if done.returncode < 0:
        return None, _signal_reason(-done.returncode)
    try:
        verdict = json.loads(done.stdout.decode("utf-8").strip().splitlines()[-1])
    except (ValueError, IndexError):
        tail = done.stderr.decode("utf-8", "replace").strip()[-300:]
        return None, f"the grammar check failed (exit {done.returncode}): {tail or 'no output'}"
    if verdict.get("ok"):
        return str(verdict["gbnf"]), None
    reason = verdict.get("reason") or _reason(f"{verdict.get('log', '')}\n{done.stderr.decode('utf-8', 'replace')}")
    return None, str(reason)[:300]


def _signal_reason(number: int) -> str:
    if number == signal.SIGXCPU:
        return f"llama.cpp's grammar code used up its {CHILD_CPU_S} s of CPU (the grammar expands too far)"
    name = signal.Signals(number).name if number in signal.valid_signals() else f"signal {number}"
    return (f"llama.cpp's grammar code crashed on it ({name}): nested too deeply, or too large to expand within "
            f"{CHILD_MEMORY_BYTES >> 20} MiB")


def _reason(log: str) -> str:
    """llama.cpp's own words for the failure (its logger and its bare stderr), without the grammar it echoes."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    if any("no vocab to parse token" in line for line in lines):
        return "it names a token by its text (<...>), which needs one model's vocabulary: write a string literal"
    for marker in ("error parsing grammar:", "left recursion", "does not contain a 'root' symbol", "repetition"):
        for line in lines:
            if marker in line:
                return line.split("error parsing grammar:", 1)[-1].strip()
    return "it does not parse as GBNF (or has no 'root' rule)"


def _derive(schema: Any) -> tuple[str | None, str | None]:
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    try:
        text: str = json_schema_to_gbnf(json.dumps(schema))
    except MemoryError:
        return None, f"the grammar it derives needs more than {CHILD_MEMORY_BYTES >> 20} MiB (bounds too large?)"
    except RecursionError:
        return None, "the schema is nested too deeply to derive a grammar from"
    except Exception as exc:  # the converter raises bare Exceptions on unsupported schemas
        return None, str(exc)[:200]
    if len(text) > MAX_GBNF_CHARS:
        return None, (f"the grammar derived has {len(text):,} characters, more than the limit of "
                      f"{MAX_GBNF_CHARS:,} (bounds such as minItems or maxLength too large?)")
    return text, None


def _child() -> None:
    import ctypes
    import resource

    import llama_cpp

    request = json.loads(sys.stdin.buffer.read())
    log: list[str] = []

    @llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
    def collect(level: int, message: bytes, user_data: ctypes.c_void_p) -> None:
        log.append(message.decode("utf-8", "replace"))

    llama_cpp.llama_log_set(collect, ctypes.c_void_p(0))
    with open("/proc/self/statm") as statm:  # pages of address space already mapped (the library)
        mapped = int(statm.read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (mapped + CHILD_MEMORY_BYTES,) * 2)
    resource.setrlimit(resource.RLIMIT_CPU, (CHILD_CPU_S, CHILD_CPU_S))
    # the same stack everywhere (the kernel checks it as the stack grows), so what crashes does not depend on
    # the caller's `ulimit -s`
    _, hard = resource.getrlimit(resource.RLIMIT_STACK)
    stack = CHILD_STACK_BYTES if hard == resource.RLIM_INFINITY else min(CHILD_STACK_BYTES, hard)
    resource.setrlimit(resource.RLIMIT_STACK, (stack, hard))
    if "json_schema" in request:
        text, problem = _derive(request["json_schema"])
        if text is None:
            sys.stdout.write(json.dumps({"ok": False, "reason": problem}) + "\n")
            return
    else:
        text = request["gbnf"]
    # no vocabulary: the parse does not need one (a token written by its text, <name>, is refused)
    sampler = llama_cpp.llama_sampler_init_grammar(None, text.encode("utf-8"), b"root")
    if sampler:
        llama_cpp.llama_sampler_free(sampler)
    sys.stdout.write(json.dumps({"ok": bool(sampler), "gbnf": text if sampler else None, "log": "".join(log)}) + "\n")


if __name__ == "__main__":
    _child()
