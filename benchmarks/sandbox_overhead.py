"""Per-call cost of the sandboxes, side by side in one interleaved run, against the floor of any process isolation.

    python benchmarks/sandbox_overhead.py [--rounds N] [--gap-ms G] [--throughput-calls M] [--no-docker] [--json]

Methods (the same node function and inputs for all):

- plain exec: in process, no isolation at all;
- floor: a bare round trip to a warm process over a pipe with the same framing (what any process
  isolation costs at least);
- restricted per_node / per_call: both walls (language guard and OS wall); per_node serves every call in
  one warm walled process (reviewed code whose policy allows it), per_call in a process no earlier call ran
  in (the default);
- docker per_node / per_call: the same runner in a warm hardened container;
- restricted per_node without the OS wall (the test-only switch): what the OS wall costs per call.

Latency: rounds are interleaved (each round calls every method once) with --gap-ms between calls, as in a
plan where a student's generation separates code calls; p50/p95 and the ratio to the floor. Throughput:
back-to-back calls per method, calls per second. Start-up: runner start with and without the OS wall.
Targets (issues #11/#12): restricted with both walls p50 <= 0.1 ms (per_node); per_call p50 <= 0.3 ms on
the restricted backend and <= 3 ms in a container; runner start <= 100 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from sgde.runtime.policy import load_policy
from sgde.runtime.sandbox import protocol
from sgde.runtime.sandbox.restricted import RestrictedBackend
from sgde.runtime.sandbox.session import FrameReader

SOURCE = """
def run(inputs):
    total = 0
    for x in inputs["xs"]:
        total += x * x
    return {"total": total, "n": len(inputs["xs"])}
"""
INPUTS = {"xs": list(range(20))}
EXPECTED = {"total": sum(x * x for x in range(20)), "n": 20}


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


class Plain:
    name = "plain exec (in process)"

    def __init__(self) -> None:
        self.code = compile(SOURCE, "<node>", "exec")

    def call(self) -> dict:
        namespace: dict = {}
        exec(self.code, namespace)  # noqa: S102 - the baseline: no sandbox at all
        return namespace["run"](json.loads(json.dumps(INPUTS)))

    def close(self) -> None:
        pass


class Floor:
    """A forked echo process: the host writes a framed request, reads the framed reply back."""

    name = "floor: bare pipe round trip"

    def __init__(self) -> None:
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self.to_w)
            os.close(self.from_r)
            reader = FrameReader()
            while True:
                chunk = os.read(to_r, 1 << 16)
                if not chunk:
                    os._exit(0)
                reader.feed(chunk)
                while (frame := reader.next_frame(1 << 20)) is not None:
                    if frame:  # the envelope is echoed as the reply; the payload frame is dropped
                        os.write(from_w, protocol.frame(frame))
                        reader.next_frame(1 << 20)
        os.close(to_r)
        os.close(from_w)
        self.reader = FrameReader()

    def call(self) -> dict:
        body = json.dumps({"inputs": json.dumps(INPUTS)}).encode()
        os.write(self.to_w, protocol.encode({"op": "run", "id": "x", "key": None}) + protocol.frame(body))
        while (frame := self.reader.next_frame(1 << 20)) is None:
            self.reader.feed(os.read(self.from_r, 1 << 16))
        return json.loads(frame)

    def close(self) -> None:
        os.close(self.to_w)
        os.waitpid(self.pid, 0)


class Sandboxed:
    def __init__(self, backend, isolation: str, label: str) -> None:
        self.backend, self.name = backend, label
        self.policy = load_policy("default").model_copy(update={"backend": backend.name, "isolation": isolation})
        assert self.call() == EXPECTED  # start the runner, compile once

    def call(self) -> dict:
        return self.backend.run(SOURCE, INPUTS, self.policy, node="bench", reviewed=True).output

    def close(self) -> None:
        self.backend.close()


def pause(seconds: float, spin: bool) -> None:
    if not spin:
        time.sleep(seconds)
        return
    until = time.perf_counter() + seconds
    while time.perf_counter() < until:
        pass


def start_times(runs: int, disable: set[str]) -> tuple[float, float]:
    """Seconds from spawning a restricted runner to its first reply, and the runner's own share (walls)."""
    totals, inside = [], []
    policy = load_policy("default")
    for _ in range(runs):
        backend = RestrictedBackend(testing_disable=disable)
        started = time.perf_counter()
        backend.run(SOURCE, INPUTS, policy, node="start", reviewed=True)
        totals.append(time.perf_counter() - started)
        inside.append(next(iter(backend._sessions.values())).ready.get("start_s", 0.0))
        backend.close()
    return statistics.median(totals), statistics.median(inside)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--gap-ms", type=float, default=5.0, help="pause between calls in the latency run")
    parser.add_argument("--spin", action="store_true",
                        help="spend the pause spinning instead of sleeping (a busy host: no idle-CPU wake-ups)")
    parser.add_argument("--throughput-calls", type=int, default=300)
    parser.add_argument("--no-docker", action="store_true")
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON object")
    args = parser.parse_args()

    methods = [Plain(), Floor(),
               Sandboxed(RestrictedBackend(), "per_node", "restricted per_node, both walls"),
               Sandboxed(RestrictedBackend(), "per_call", "restricted per_call, both walls"),
               Sandboxed(RestrictedBackend(testing_disable={"os_wall"}), "per_node",
                         "restricted per_node, no OS wall")]
    if not args.no_docker:
        from sgde.runtime.sandbox.docker_backend import DockerBackend
        from sgde.runtime.sandbox.docker_image import build_image
        build_image()
        methods += [Sandboxed(DockerBackend(), "per_node", "docker per_node (warm container)"),
                    Sandboxed(DockerBackend(), "per_call", "docker per_call (warm container)")]
    latency: dict[str, list[float]] = {m.name: [] for m in methods}
    for _ in range(args.rounds):
        for method in methods:
            pause(args.gap_ms / 1000, args.spin)
            started = time.perf_counter()
            method.call()
            latency[method.name].append(time.perf_counter() - started)
    throughput = {}
    for method in methods:
        started = time.perf_counter()
        for _ in range(args.throughput_calls):
            method.call()
        throughput[method.name] = args.throughput_calls / (time.perf_counter() - started)
    for method in methods:
        method.close()
    start_walls, start_walls_inside = start_times(10, set())
    start_bare, _ = start_times(10, {"os_wall"})

    floor_p50 = percentiles(latency[Floor.name])[0]
    print(f"{args.rounds} interleaved rounds, {args.gap_ms:g} ms {'spinning' if args.spin else 'asleep'} between "
          f"calls; throughput: "
          f"{args.throughput_calls} back-to-back calls per method")
    print(f"{'':38} {'p50 ms':>8} {'p95 ms':>8} {'x floor':>8} {'calls/s':>9}")
    figures = {}
    for name, samples in latency.items():
        p50, p95 = percentiles(samples)
        figures[name] = {"p50_ms": p50 * 1e3, "p95_ms": p95 * 1e3, "x_floor": p50 / floor_p50,
                         "calls_per_s": throughput[name]}
        print(f"{name:38} {p50 * 1e3:8.3f} {p95 * 1e3:8.3f} {p50 / floor_p50:8.1f} {throughput[name]:9.0f}")
    print(f"restricted runner start (spawn to first reply): {start_walls * 1e3:.0f} ms with the OS wall "
          f"(of which {start_walls_inside * 1e3:.0f} ms warm-up and walls inside the runner), "
          f"{start_bare * 1e3:.0f} ms without")
    figures["start_ms"] = {"with_os_wall": start_walls * 1e3, "walls_inside": start_walls_inside * 1e3,
                           "without_os_wall": start_bare * 1e3}
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
