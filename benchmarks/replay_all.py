"""Replay every recorded frontier compile (tests/fixtures/frontier) and report, per compile, whether the
plan came back byte-identical and how long the replay took.

    python benchmarks/replay_all.py [-k EXPR]

CI replays only the compiles in tests/conftest.py's CI_REPLAYS (the README's, one more, and one for the 135M);
this runs them all (about 4 minutes each on 2 cores with the default student, under a minute to 3 for the 135M's,
3 to 17 for the 0.5B's at one thread on a shared machine, some 45 minutes for gsmhard-large's).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    command = [sys.executable, "-m", "pytest", str(REPO / "tests" / "test_frontier_replay.py"), "--replay-all",
               "-k", "replaying", "-p", "no:cacheprovider", "--durations=0", "-q", *sys.argv[1:]]
    return subprocess.run(command, cwd=REPO).returncode


if __name__ == "__main__":
    sys.exit(main())
