"""Per-call overhead of the restricted sandbox vs plain in-process exec, side by side.

    python benchmarks/sandbox_overhead.py [--calls N]

Both sides run the same small node function on the same inputs; the sandbox
side goes through a warm worker with every limit in force (rlimits, wall
clock, output cap, JSON boundary, fresh globals per call). Target: sandbox
p50 <= 0.3 ms per call.
"""

from __future__ import annotations

import argparse
import statistics
import time

from sgde.runtime.policy import load_policy
from sgde.runtime.sandbox import make_backend

SOURCE = """
def run(inputs):
    total = 0
    for x in inputs["xs"]:
        total += x * x
    return {"total": total, "n": len(inputs["xs"])}
"""
INPUTS = {"xs": list(range(20))}


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def bench_plain(calls: int) -> list[float]:
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        namespace: dict = {}
        exec(SOURCE, namespace)  # noqa: S102 - the baseline: no sandbox at all
        namespace["run"](dict(INPUTS))
        times.append(time.perf_counter() - started)
    return times


def bench_sandbox(calls: int) -> list[float]:
    policy = load_policy("default")
    with make_backend("restricted") as sandbox:
        sandbox.run(SOURCE, INPUTS, policy, node="bench")  # start the worker, compile once
        times = []
        for _ in range(calls):
            started = time.perf_counter()
            sandbox.run(SOURCE, INPUTS, policy, node="bench")
            times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    plain = bench_plain(args.calls)
    sandboxed = bench_sandbox(args.calls)
    p50_plain, p95_plain = percentiles(plain)
    p50_sb, p95_sb = percentiles(sandboxed)
    print(f"{'':28} {'p50 ms':>9} {'p95 ms':>9}")
    print(f"{'plain exec (in process)':28} {p50_plain * 1e3:9.3f} {p95_plain * 1e3:9.3f}")
    print(f"{'restricted sandbox (warm)':28} {p50_sb * 1e3:9.3f} {p95_sb * 1e3:9.3f}")
    print(f"ratio sandbox/plain p50: {p50_sb / p50_plain:.1f}x   target p50 <= 0.300 ms: "
          f"{'met' if p50_sb <= 0.3e-3 else 'NOT met'}   ({args.calls} calls each)")


if __name__ == "__main__":
    main()
