"""GBNF grammars parsed by llama.cpp's own parser in a child process before the host ever hands them over.

llama.cpp parses a grammar recursively and without bounds: some 30,000 nested parentheses (60 KB of text)
overflow the C stack and kill the process that asked, a segfault no Python code can catch. A plan's grammar is
teacher-written text, so it is hostile until parsed: the first parse of each text happens in a short-lived
child with a memory and CPU ceiling, and a crash, a timeout or a parse error there is a reason in words.

Run as ``python -m sgde.runtime.student.gbnf`` it is that child: the grammar on stdin, one JSON line out.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from functools import lru_cache

MAX_GBNF_CHARS = 65_536  # a hand-written grammar of a plan is a few lines; derived ones a few KB
CHECK_TIMEOUT_S = 20.0
CHILD_MEMORY_BYTES = 1 << 30  # address space the parse may add to the child's
CHILD_CPU_S = 10


@lru_cache(maxsize=256)
def gbnf_problem(text: str) -> str | None:
    """Why llama.cpp would refuse (or crash on) this grammar, or None when it parses with a ``root`` rule.
    Needs llama-cpp-python installed (the child imports it); no model is loaded."""
    if len(text) > MAX_GBNF_CHARS:
        return f"the grammar has {len(text):,} characters, more than the limit of {MAX_GBNF_CHARS:,}"
    if "\x00" in text:
        return "the grammar contains a NUL character (llama.cpp would read only the text before it)"
    try:
        done = subprocess.run([sys.executable, "-m", __name__], input=text.encode("utf-8"), capture_output=True,
                              timeout=CHECK_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"llama.cpp's grammar parser did not finish within {CHECK_TIMEOUT_S:g} s"
    if done.returncode < 0:
        name = signal.Signals(-done.returncode).name if -done.returncode in signal.valid_signals() else "a signal"
        return (f"llama.cpp's grammar parser crashed on it ({name}): nested too deeply, or too large to expand "
                f"within {CHILD_MEMORY_BYTES >> 20} MiB and {CHILD_CPU_S} s")
    try:
        verdict = json.loads(done.stdout.decode("utf-8").strip().splitlines()[-1])
    except (ValueError, IndexError):
        tail = done.stderr.decode("utf-8", "replace").strip()[-300:]
        return f"the grammar check failed (exit {done.returncode}): {tail or 'no output'}"
    if verdict.get("ok"):
        return None
    return _reason(str(verdict.get("log", "")) + "\n" + done.stderr.decode("utf-8", "replace"))[:300]


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


def _child() -> None:
    import ctypes
    import resource

    import llama_cpp

    text = sys.stdin.buffer.read()
    log: list[str] = []

    @llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
    def collect(level: int, message: bytes, user_data: ctypes.c_void_p) -> None:
        log.append(message.decode("utf-8", "replace"))

    llama_cpp.llama_log_set(collect, ctypes.c_void_p(0))
    with open("/proc/self/statm") as statm:  # pages of address space already mapped (the library)
        mapped = int(statm.read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (mapped + CHILD_MEMORY_BYTES,) * 2)
    resource.setrlimit(resource.RLIMIT_CPU, (CHILD_CPU_S, CHILD_CPU_S))
    # no vocabulary: the parse does not need one (a token written by its text, <name>, is refused)
    sampler = llama_cpp.llama_sampler_init_grammar(None, text, b"root")
    if sampler:
        llama_cpp.llama_sampler_free(sampler)
    sys.stdout.write(json.dumps({"ok": bool(sampler), "log": "".join(log)}) + "\n")


if __name__ == "__main__":
    _child()
