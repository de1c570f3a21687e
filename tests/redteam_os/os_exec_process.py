# @id: os_exec_process
# @category: os_effect
# @expect: any
# @layer: os
# @raw_safe: no
# @source: issue #11 (a student program that starts a process on the host)
# Attempt: start /bin/sh (os.system, subprocess, os.execv, os.posix_spawn) to touch the host marker file.
# Safe sandbox must: never start a process; the marker never appears.

import os
import subprocess


def run(inputs):
    seen = {}
    cmd = f"touch {inputs['marker']} {inputs['token']}"
    for name, attempt in [
        ("system", lambda: os.system(cmd)),
        ("subprocess", lambda: subprocess.run(["/bin/sh", "-c", cmd], capture_output=True).returncode),
        ("posix_spawn", lambda: os.posix_spawn("/usr/bin/touch", ["touch", inputs["marker"]], {})),
        ("execv", lambda: os.execv("/bin/sh", ["sh", "-c", cmd])),
    ]:
        try:
            seen[name] = repr(attempt())
        except BaseException as exc:  # noqa: BLE001
            seen[name] = type(exc).__name__
    return {"seen": seen}
