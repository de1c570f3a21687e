# @id: os_steal_channel
# @category: os_effect
# @expect: any
# @layer: os
# @raw_safe: no
# @source: /proc/<pid>/fd reopening (a process can reopen another's pipes through /proc when allowed)
# Attempt: open the runner's and the host's descriptors through /proc/<pid>/fd, and /proc/<pid>/mem.
# Safe sandbox must: none open; no later call's request can be read, no reply forged.

import os


def run(inputs):
    seen = {}
    for pid in ("1", str(os.getppid()), str(inputs["host_pid"])):
        for fd in range(0, 8):
            path = f"/proc/{pid}/fd/{fd}"
            try:
                handle = os.open(path, os.O_RDWR | os.O_NONBLOCK)
                os.close(handle)
                seen[path] = "opened"
            except BaseException as exc:  # noqa: BLE001
                seen[path] = type(exc).__name__
        try:
            os.close(os.open(f"/proc/{pid}/mem", os.O_RDONLY))
            seen[f"/proc/{pid}/mem"] = "opened"
        except BaseException as exc:  # noqa: BLE001
            seen[f"/proc/{pid}/mem"] = type(exc).__name__
    return {"seen": seen}
