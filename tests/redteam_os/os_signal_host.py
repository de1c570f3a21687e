# @id: os_signal_host
# @category: os_effect
# @expect: any
# @layer: os
# @raw_safe: no
# @source: a sandbox that can signal its host can kill the service or its other sandboxes
# Attempt: send SIGUSR1 to the test process by pid, to every process (kill -1), to its own process group
#   and to the parent.
# Safe sandbox must: the test process receives nothing.

import os
import signal


def run(inputs):
    seen = {}
    for name, attempt in [
        ("host_pid", lambda: os.kill(inputs["host_pid"], signal.SIGUSR1)),
        ("everyone", lambda: os.kill(-1, signal.SIGUSR1)),
        ("group", lambda: os.killpg(0, signal.SIGUSR1)),
        ("parent", lambda: os.kill(os.getppid(), signal.SIGUSR1)),
    ]:
        try:
            attempt()
            seen[name] = "sent"
        except BaseException as exc:  # noqa: BLE001
            seen[name] = type(exc).__name__
    return {"seen": seen}
