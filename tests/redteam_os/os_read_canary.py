# @id: os_read_canary
# @category: os_effect
# @expect: any
# @layer: os
# @raw_safe: no
# @source: issue #11 (the worker read the CLI's environment through /proc/<ppid>/environ)
# Attempt: read the canary file under the host user's home, by path, via /proc/<host pid>/root and via
#   /proc/1/root; list /, /root and /home.
# Safe sandbox must: none of it readable; the canary's content never comes back.

import os


def run(inputs):
    seen = {}
    paths = [inputs["canary_path"], f"/proc/{inputs['host_pid']}/root{inputs['canary_path']}",
             f"/proc/1/root{inputs['canary_path']}", "/etc/shadow", "/root/.bashrc"]
    for path in paths:
        try:
            with open(path, "rb") as fh:
                seen[path] = fh.read(200).decode(errors="replace")
        except BaseException as exc:  # noqa: BLE001
            seen[path] = type(exc).__name__
    for path in ("/", "/root", "/home", "/proc"):
        try:
            seen["ls " + path] = sorted(os.listdir(path))[:50]
        except BaseException as exc:  # noqa: BLE001
            seen["ls " + path] = type(exc).__name__
    return {"seen": seen}
