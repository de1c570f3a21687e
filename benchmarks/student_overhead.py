"""Tokens/s of raw llama-cpp-python vs the same prompts through sgde's executor, side by side.

    python benchmarks/student_overhead.py [--model NAME|GGUF] [--max-tokens 64] [--rounds 2]

Each prompt goes to a raw `llama_cpp.Llama.create_chat_completion` and to a
one-node plan run by `Executor.run` (what `sgde run` does per input: template,
student, parser, trace), alternating so both see the same machine state.
Throughput counts generated tokens over the whole call. Target: >= 95 %.
"""

from __future__ import annotations

import argparse
import os
import time

from sgde.runtime.executor import Executor
from sgde.runtime.plan_io import parse_plan
from sgde.runtime.student.llama import LlamaStudent
from sgde.runtime.student.models import resolve_model

PROMPTS = [
    "Write a Python function that returns the n-th Fibonacci number.",
    "Explain in three sentences what a hash table is.",
    "Write a Python function that checks whether a string is a palindrome.",
    "List five prime numbers and say why each is prime.",
    "Write a Python function that merges two sorted lists.",
]
SAMPLING = {"temperature": 0.0, "max_tokens": 64, "seed": 0, "top_p": 1.0, "top_k": 40, "min_p": 0.05}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    sampling = {**SAMPLING, "max_tokens": args.max_tokens}

    import llama_cpp
    path, _ = resolve_model(args.model)
    raw = llama_cpp.Llama(model_path=str(path), n_ctx=4096, n_threads=os.cpu_count(), verbose=False)
    student = LlamaStudent(path)
    plan = parse_plan({"name": "bench", "inputs": {"q": {"type": "string"}}, "output": {"from": "say"},
                       "nodes": [{"id": "say", "kind": "llm", "reads": ["q"], "user": "{q}", "sampling": sampling}]})
    executor = Executor(plan, student=student)

    raw_tokens = raw_time = sgde_tokens = sgde_time = 0.0
    for _ in range(args.rounds):
        for prompt in PROMPTS:
            started = time.perf_counter()
            response = raw.create_chat_completion(
                messages=[{"role": "user", "content": prompt}], temperature=sampling["temperature"],
                top_p=sampling["top_p"], top_k=sampling["top_k"], min_p=sampling["min_p"],
                max_tokens=sampling["max_tokens"], seed=sampling["seed"], stop=[])
            raw_time += time.perf_counter() - started
            raw_tokens += response["usage"]["completion_tokens"]

            started = time.perf_counter()
            result = executor.run({"q": prompt})
            sgde_time += time.perf_counter() - started
            assert result.ok, result.error
            sgde_tokens += result.trace[0].tokens_out
    executor.close()
    student.close()
    raw.close()
    raw_tps, sgde_tps = raw_tokens / raw_time, sgde_tokens / sgde_time
    print(f"model: {path.name}   {len(PROMPTS)} prompts x {args.rounds} rounds, max_tokens {args.max_tokens}")
    print(f"{'':32} {'tokens':>7} {'seconds':>8} {'tok/s':>7}")
    print(f"{'raw llama-cpp-python':32} {raw_tokens:7.0f} {raw_time:8.2f} {raw_tps:7.2f}")
    print(f"{'sgde executor (as sgde run)':32} {sgde_tokens:7.0f} {sgde_time:8.2f} {sgde_tps:7.2f}")
    met = "met" if sgde_tps >= 0.95 * raw_tps else "NOT met"
    print(f"sgde / raw: {sgde_tps / raw_tps:.1%}   target >= 95 %: {met}")


if __name__ == "__main__":
    main()
