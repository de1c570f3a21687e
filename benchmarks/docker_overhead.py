"""Docker backend costs, in one run: image build cold and cached, image size, and per-call
latency of a cold container per call (`docker run` each time) vs a warm per-node container.

    python benchmarks/docker_overhead.py [--calls N] [--cold-calls M] [--skip-cold-build]

Targets: warm p50 <= 15 ms per call and >= 20x faster than cold.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
from contextlib import closing

from sgde.runtime.policy import load_policy
from sgde.runtime.sandbox.docker_backend import DockerBackend
from sgde.runtime.sandbox.docker_image import BASE_REPO, IMAGE_REPO, build_image, docker_client

SOURCE = "def run(inputs):\n    return {'total': sum(x * x for x in inputs['xs'])}\n"
INPUTS = {"xs": list(range(20))}


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def cold_build() -> float:
    """Remove sgde's images, then build from nothing (base import + runner layer)."""
    with closing(docker_client()) as client:
        for image in client.images.list():
            if any(tag.startswith((IMAGE_REPO + ":", BASE_REPO + ":")) for tag in image.tags):
                client.images.remove(image.id, force=True)
    return build_image().seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--cold-calls", type=int, default=20)
    parser.add_argument("--skip-cold-build", action="store_true", help="keep the existing images")
    args = parser.parse_args()

    cold_build_s = None if args.skip_cold_build else cold_build()
    cached = build_image()
    policy = load_policy("default").model_copy(update={"backend": "docker"})

    with DockerBackend(image=cached.tag) as warm:
        warm.run(SOURCE, INPUTS, policy, node="bench")  # start the container once
        warm_times = []
        for _ in range(args.calls):
            started = time.perf_counter()
            warm.run(SOURCE, INPUTS, policy, node="bench")
            warm_times.append(time.perf_counter() - started)

    # cold: a fresh hardened container per call, as `docker run` would do it
    cold_times = []
    for i in range(args.cold_calls):
        with DockerBackend(image=cached.tag) as cold:
            started = time.perf_counter()
            cold.run(SOURCE, INPUTS, policy, node=f"cold-{i}")
            cold_times.append(time.perf_counter() - started)
    # and the bare CLI, for reference: docker run --rm with the same flags that matter
    cli_times = []
    for _ in range(min(5, args.cold_calls)):
        started = time.perf_counter()
        subprocess.run(["docker", "run", "--rm", "--network", "none", "--read-only", "--cap-drop", "ALL",
                        "--entrypoint", "python3", cached.tag, "-c", "print(sum(x * x for x in range(20)))"],
                       check=True, capture_output=True)
        cli_times.append(time.perf_counter() - started)

    w50, w95 = percentiles(warm_times)
    c50, c95 = percentiles(cold_times)
    d50, d95 = percentiles(cli_times)
    print(f"image {cached.tag}: {cached.size_bytes / 1e6:.1f} MB; build cold "
          f"{'skipped' if cold_build_s is None else f'{cold_build_s:.1f} s'}, cached {cached.seconds:.2f} s")
    print(f"{'':36} {'p50 ms':>9} {'p95 ms':>9}")
    print(f"{'warm per-node container':36} {w50 * 1e3:9.2f} {w95 * 1e3:9.2f}   ({args.calls} calls)")
    print(f"{'cold container per call (sgde)':36} {c50 * 1e3:9.2f} {c95 * 1e3:9.2f}   ({args.cold_calls} calls)")
    print(f"{'docker run --rm python3 -c (CLI)':36} {d50 * 1e3:9.2f} {d95 * 1e3:9.2f}   ({len(cli_times)} calls)")
    print(f"cold/warm p50: {c50 / w50:.0f}x   targets: warm p50 <= 15 ms "
          f"{'met' if w50 <= 0.015 else 'NOT met'}, >= 20x {'met' if c50 / w50 >= 20 else 'NOT met'}")


if __name__ == "__main__":
    main()
