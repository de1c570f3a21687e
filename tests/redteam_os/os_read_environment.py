# @id: os_read_environment
# @category: os_effect
# @expect: any
# @layer: os
# @raw_safe: no
# @source: issue #11; smolagents secure_code_execution docs (secrets in the sandbox's environment)
# Attempt: read the parent's canary environment variable: os.environ, /proc/self/environ,
#   /proc/<ppid>/environ, /proc/<host pid>/environ, /proc/1/environ.
# Safe sandbox must: the canary never comes back.

import os


def run(inputs):
    seen = {"environ": dict(os.environ), "getenv": os.environ.get(inputs["canary_env"])}
    for pid in ("self", str(os.getppid()), str(inputs["host_pid"]), "1"):
        try:
            with open(f"/proc/{pid}/environ", "rb") as fh:
                seen[pid] = fh.read().decode(errors="replace")[:4000]
        except BaseException as exc:  # noqa: BLE001
            seen[pid] = type(exc).__name__
    return {"seen": seen}
