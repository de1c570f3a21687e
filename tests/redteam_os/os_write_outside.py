# @id: os_write_outside
# @category: os_effect
# @expect: any
# @layer: os
# @raw_safe: no
# @source: shared corpus fs_write_fill_33, here aimed at the host's filesystem
# Attempt: create the marker in the host's marker directory, in /tmp and in the host user's home.
# Safe sandbox must: nothing is written outside the sandbox's own scratch directory.

import os


def run(inputs):
    seen = {}
    home = os.path.dirname(inputs["canary_path"])
    for path in (inputs["marker"], f"/tmp/sgde-marker-{inputs['token']}", f"{home}/.sgde-marker-{inputs['token']}"):
        try:
            with open(path, "w") as fh:
                fh.write(inputs["token"])
            seen[path] = "written"
        except BaseException as exc:  # noqa: BLE001
            seen[path] = type(exc).__name__
    return {"seen": seen}
