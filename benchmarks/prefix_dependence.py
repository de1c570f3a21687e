"""Does a prompt's next-token distribution depend on the prompt evaluated before it? (llama-cpp-python's cache)

    python benchmarks/prefix_dependence.py [--model NAME|GGUF] [--rules 2 40]

`Llama.generate` keeps the last prompt's KV cells and evaluates only the tail that differs, in chunks of
n_batch that start where the cached prefix ends. This evaluates the same prompt P twice from a cold cache,
then once after a prompt Q that shares P's system part (as the next item of a node does), and prints how far
the last token's logits moved. Anything but 0 means a student's output can depend on the previous call: a
near-tie can flip (sgde's own batch decoding, `generate_many`, evaluates in call-only pieces instead).
"""

from __future__ import annotations

import argparse

import numpy as np

from sgde.runtime.settings import settings
from sgde.runtime.student.llama import _import_llama
from sgde.runtime.student.models import resolve_model

USER_P = "Amara has 10 more crabs than Elena, who has 37 fewer crabs than Bo. If Bo has 1,058,856 crabs, how many?"
USER_Q = "A shop sells 3 bikes with 2 wheels each and 1,059,756 tricycles. How many wheels are in the shop?"


def chat(system: str, user: str) -> str:
    return (f"<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n"
            "<|im_start|>assistant\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--rules", nargs="+", type=int, default=[2, 40], help="system prompt lengths (lines)")
    args = parser.parse_args()
    llama_cpp = _import_llama()
    path, _ = resolve_model(args.model)
    threads = settings("n_threads").n_threads
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=4096, n_threads=threads, n_threads_batch=threads,
                          verbose=False)

    def last_logits(tokens: list[int], before: list[int] | None = None) -> np.ndarray:
        llm.reset()
        if before is not None:  # what Llama.generate does on a prefix hit
            llm.eval(before)
            pairs = enumerate(zip(before, tokens, strict=False))
            common = next((i for i, (a, b) in pairs if a != b), min(len(before), len(tokens)))
            llm.n_tokens = common
            tokens = tokens[common:]
        llm.eval(tokens)
        return np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),)).copy()

    print(f"model {path.name}, {threads} threads, n_batch {llm.n_batch}")
    for rules in args.rules:
        system = "".join(f"Rule {i}: solve the word problem step by step, then give the number {i * 37}.\n"
                         for i in range(rules))
        p = llm.tokenize(chat(system, USER_P).encode(), special=True)
        q = llm.tokenize(chat(system, USER_Q).encode(), special=True)
        cold, again, after = last_logits(p), last_logits(p), last_logits(p, before=q)
        print(f"prompt {len(p)} tokens: cold twice max |diff| {np.abs(cold - again).max():.3g}; "
              f"cold vs after Q max |diff| {np.abs(cold - after).max():.3g}, "
              f"same argmax {int(cold.argmax()) == int(after.argmax())}")
    llm.close()


if __name__ == "__main__":
    main()
