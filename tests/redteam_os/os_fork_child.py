# @id: os_fork_child
# @category: os_effect
# @expect: any
# @layer: os
# @raw_safe: no
# @source: classic: fork a child that outlives the call and acts later
# Attempt: fork; the child sleeps, then writes the marker (and would serve later calls' data).
# Safe sandbox must: refuse the fork (or contain it and end it with the call); the marker never appears.

import os
import time


def run(inputs):
    try:
        pid = os.fork()
    except BaseException as exc:  # noqa: BLE001
        return {"fork": type(exc).__name__}
    if pid == 0:
        time.sleep(0.5)
        with open(inputs["marker"], "w") as fh:
            fh.write(inputs["token"])
        os._exit(0)
    return {"fork": "parent", "child": pid}
