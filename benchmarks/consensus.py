"""A consensus node's n samples: one batch (`generate_many`) vs n `generate` calls vs one sample.

    python benchmarks/consensus.py [--model NAME|GGUF] [--n 5] [--reps 3] [--max-tokens 300]

The prompt is the PAL program-writing node of examples/gsmhard/pal.yaml (its
system prompt and three shots) on a GSM-Hard question, sampled at temperature
0.7 with seeds 0..n-1. Each repetition runs, back to back so all three see the
same machine state: one sample, n sequential samples, and the n samples as one
llama.cpp batch. Reported: median wall seconds and generated tokens, tokens/s over
all reps, the longest sample, milliseconds per decode step (a batch step decodes
one token of every running sample, so a batch lasts as long as its longest
sample), and each n-sample way's time over one sample's (target for the batch:
<= 2.0). The student uses SGDE_N_THREADS (every core when unset).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from sgde.runtime.plan import LlmNode, Sampling
from sgde.runtime.plan_io import load_plan
from sgde.runtime.student.llama import LlamaStudent

PAL = Path(__file__).resolve().parent.parent / "examples" / "gsmhard" / "pal.yaml"
QUESTION = ("Mia is walking through the Museum of Entomology. She sees 12 spiders with 8 legs each, 7 insects with "
            "6 legs each, and 2.5 million rare mutant invertebrates with 9 legs each. How many legs does Mia see "
            "total?")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="student name or GGUF path (default: the default student)")
    parser.add_argument("--n", type=int, default=5, help="samples per consensus node")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of the three measurements")
    parser.add_argument("--max-tokens", type=int, default=300)
    parser.add_argument("--temperature", type=float, default=0.7)
    args = parser.parse_args()

    node = next(n for n in load_plan(PAL).nodes if isinstance(n, LlmNode))
    user = node.user.format(question=QUESTION)
    samplings = [Sampling(temperature=args.temperature, max_tokens=args.max_tokens, seed=seed)
                 for seed in range(args.n)]
    student = LlamaStudent(args.model)
    # warm up to a node's steady state: the batch context at its final size, the prompt in both caches
    student.generate_many(node.system, user, samplings, shots=node.shots)
    prompt_tokens = student.generate(node.system, user, samplings[0].model_copy(update={"max_tokens": 1}),
                                     shots=node.shots).tokens_in

    single, sequential, batched = ("one sample (generate)", f"n={args.n} sequential generate",
                                   f"n={args.n} generate_many (batch)")
    ways = {single: lambda: [student.generate(node.system, user, samplings[0], shots=node.shots)],
            sequential: lambda: [student.generate(node.system, user, s, shots=node.shots) for s in samplings],
            batched: lambda: student.generate_many(node.system, user, samplings, shots=node.shots)}
    seconds: dict[str, list[float]] = {name: [] for name in ways}
    tokens: dict[str, list[int]] = {name: [] for name in ways}
    longest: dict[str, list[int]] = {name: [] for name in ways}  # a batch runs as long as its longest sample
    texts: dict[str, list[str]] = {}
    for rep in range(args.reps):
        for name, run in ways.items():
            started = time.perf_counter()
            out = run()
            seconds[name].append(time.perf_counter() - started)
            tokens[name].append(sum(g.tokens_out for g in out))
            longest[name].append(max(g.tokens_out for g in out))
            texts[name] = [g.text for g in out]
            print(f"  rep {rep + 1}: {name}: {seconds[name][-1]:.2f} s, {tokens[name][-1]} tokens",
                  file=sys.stderr, flush=True)
    student.close()

    print(f"model: {student.model_name}   threads: {student.n_threads}   prompt: {prompt_tokens} tokens   "
          f"n={args.n}, max_tokens {args.max_tokens}, temperature {args.temperature}, {args.reps} reps (medians)")
    print(f"{'':34} {'seconds':>8} {'tokens':>7} {'tok/s':>7} {'x one':>6} {'longest':>7} {'ms/step':>8}")
    one = statistics.median(seconds[single])
    for name in ways:  # tok/s over all reps: sample lengths vary from rep to rep
        wall, toks = statistics.median(seconds[name]), statistics.median(tokens[name])
        # ms/step: wall time over the decode steps the way took (one step per token of its longest sample)
        steps = sum(longest[name]) if name == batched else sum(tokens[name])
        print(f"{name:34} {wall:8.2f} {toks:7.0f} {sum(tokens[name]) / sum(seconds[name]):7.2f} {wall / one:6.2f} "
              f"{statistics.median(longest[name]):7.0f} {1000 * sum(seconds[name]) / steps:8.1f}")
    ratio = statistics.median(seconds[batched]) / one
    print(f"sequential n={args.n} / one sample: {statistics.median(seconds[sequential]) / one:.2f}")
    print(f"batched n={args.n} / one sample: {ratio:.2f}   target <= 2.0: {'met' if ratio <= 2.0 else 'NOT met'}")
    same = sum(a == b for a, b in zip(texts[sequential], texts[batched], strict=True))
    print(f"batched samples identical to the sequential ones (same seeds): {same}/{args.n}")


if __name__ == "__main__":
    main()
