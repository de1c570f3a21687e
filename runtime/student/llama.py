"""The llama.cpp student: llama-cpp-python in process, on CPU."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from ..errors import ModelError
from ..plan import Sampling, Shot
from ..settings import settings
from .base import Generation, Student
from .gbnf import gbnf_problem, grammar_from_json_schema
from .models import resolve_model


def _import_llama() -> Any:
    try:
        import llama_cpp
    except ImportError as exc:
        raise ModelError("llama-cpp-python is not installed; install it with "
                         "CMAKE_ARGS=\"-DGGML_NATIVE=OFF\" pip install 'sgde[llama]' (see README)",
                         field="student") from exc
    return llama_cpp


def llama_installed() -> bool:
    """Whether llama-cpp-python can be imported here (a reviewer's machine may have no model and no compiler)."""
    try:
        _import_llama()
    except ModelError:
        return False
    return True


#: most samples one `generate_many` decodes together (a consensus node's n)
MAX_BATCH_SAMPLES = 64
#: default KV cells of the batch context, over all sequences (each holds the prompt plus its sample)
N_CTX_BATCH = 16384


class _Captured(Exception):  # noqa: N818 - control flow, never seen by a caller
    def __init__(self, prompt: list[int], stop: list[str]) -> None:
        super().__init__("prompt captured")
        self.prompt, self.stop = prompt, stop


class _PromptCapture:
    """Stands in for the `Llama` a chat handler is given and stops it at `create_completion`, so that
    `generate_many` decodes exactly the tokens and stop strings `create_chat_completion` would (template,
    BOS handling and the template's end-of-turn stop string included), whatever the chat format."""

    def __init__(self, llm: Any) -> None:
        self._llm = llm

    def __getattr__(self, name: str) -> Any:
        return getattr(self._llm, name)

    def create_completion(self, *, prompt: list[int], stop: list[str] | None = None, **_: Any) -> NoReturn:
        raise _Captured(list(prompt), list(stop or []))


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):  # the shorter list bounds the prefix
        if x != y:
            break
        n += 1
    return n


def _threads_from_env() -> int:
    """SGDE_N_THREADS, or every core. llama.cpp's sums depend on the thread count, so a replay
    is byte-identical only with the thread count of the recording."""
    return settings("n_threads").n_threads


class LlamaStudent(Student):
    """A GGUF model through llama-cpp-python; the chat template comes from the model file."""

    def __init__(self, model: str | os.PathLike[str] | None = None, *, n_ctx: int | None = None,
                 n_threads: int | None = None, n_ctx_batch: int | None = None) -> None:
        """``n_ctx_batch`` caps the KV cells of `generate_many`'s batch context, n * (prompt + max_tokens);
        the context is created on first use and grown when a request needs more."""
        path, pinned = resolve_model(model)
        llama_cpp = _import_llama()
        self.model_path = Path(path)
        self.model_name = self.model_path.name
        self.model_sha256 = pinned
        self._grammars: dict[str, object] = {}
        self._llama_cpp = llama_cpp
        n_ctx = n_ctx or settings("n_ctx").n_ctx
        self.n_threads = n_threads or _threads_from_env()
        self.n_ctx_batch = max(n_ctx_batch or N_CTX_BATCH, n_ctx)
        self._batch_ctx: Any = None  # a second llama context on the same model, for generate_many
        self._batch_shape = (0, 0)  # its (sequences, KV cells per sequence)
        self._batch_prefix: list[int] = []  # prompt tokens whose KV cells sequence 0 keeps between calls
        try:
            self._llm = llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx,
                                        n_threads=self.n_threads, n_threads_batch=self.n_threads,
                                        verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"llama.cpp could not load {path}: {exc}; the file may be corrupt or not a "
                             "supported GGUF model", field="model") from None
        self.parameters = int(llama_cpp.llama_model_n_params(self._llm.model))

    def build_info(self) -> dict[str, object]:
        """What greedy output depends on besides the model and the prompt: a replay must match all of it."""
        system = self._llama_cpp.llama_print_system_info()
        return {"n_threads": self.n_threads, "llama_cpp_python": getattr(self._llama_cpp, "__version__", "unknown"),
                "system_info": (system.decode() if isinstance(system, bytes) else str(system)).strip()}

    def _grammar(self, gbnf: str) -> Any:
        grammar = self._grammars.get(gbnf)
        if grammar is None:
            self._check_grammar(gbnf)
            grammar = self._llama_cpp.LlamaGrammar.from_string(gbnf, verbose=False)
            self._grammars[gbnf] = grammar
        return grammar

    @staticmethod
    def _check_grammar(gbnf: str) -> None:
        """llama.cpp returns NULL for a grammar it cannot parse (and llama-cpp-python then segfaults), and
        crashes outright on one nested too deeply: each text is parsed first in a child process (cached)."""
        problem = gbnf_problem(gbnf)
        if problem is not None:
            raise ModelError(f"grammar does not parse as GBNF: {problem}", field="grammar")

    @staticmethod
    def _messages(system: str, user: str, shots: tuple[Shot, ...]) -> list[dict[str, str]]:
        messages = [{"role": "system", "content": system}] if system else []
        for shot in shots:
            messages += [{"role": "user", "content": shot.user}, {"role": "assistant", "content": shot.assistant}]
        messages.append({"role": "user", "content": user})
        return messages

    def generate(self, system: str, user: str, sampling: Sampling, *, grammar: str | None = None,
                 shots: tuple[Shot, ...] = ()) -> Generation:
        messages = self._messages(system, user, shots)
        started = time.perf_counter()
        try:
            response = self._llm.create_chat_completion(
                messages=messages, temperature=sampling.temperature, top_p=sampling.top_p, top_k=sampling.top_k,
                min_p=sampling.min_p, max_tokens=sampling.max_tokens, seed=sampling.seed,
                stop=list(sampling.stop), grammar=self._grammar(grammar) if grammar else None)
        except ValueError as exc:  # e.g. prompt longer than the context window
            raise ModelError(f"generation failed: {exc}", field="sampling") from None
        choice = response["choices"][0]
        usage = response["usage"]
        return Generation(text=choice["message"]["content"] or "", tokens_in=usage["prompt_tokens"],
                          tokens_out=usage["completion_tokens"], duration_s=time.perf_counter() - started,
                          finish_reason=choice.get("finish_reason"))

    # --- n samples of one prompt as one batch -----------------------------------------------

    def generate_many(self, system: str, user: str, samplings: Sequence[Sampling], *, grammar: str | None = None,
                      shots: tuple[Shot, ...] = ()) -> list[Generation]:
        """The samples as one llama.cpp batch: the prompt is evaluated once (its system and shots part is
        kept between calls, as `generate` keeps its last prompt) and its KV cells copied to the n
        sequences, then every step decodes one token of each running sequence in one `llama_decode`, each
        sampled by its own chain (own seed, own grammar state). CPU decoding is bound by reading the weights,
        so n samples cost little more than one. The sampler chain is `generate`'s (grammar, then greedy at
        temperature 0, else top_k, top_p, min_p, temperature, a dist sampler seeded with the sampling's
        seed), and each sequence attends over a KV layout like `generate`'s, so sample i is in practice the
        text `generate` gives for samplings[i] (llama.cpp does not promise bit-equal sums across batch
        shapes, so a rare near-tie may still go the other way)."""
        samplings = list(samplings)
        if len(samplings) <= 1:
            return [self.generate(system, user, s, grammar=grammar, shots=shots) for s in samplings]
        if len(samplings) > MAX_BATCH_SAMPLES:
            raise ModelError(f"{len(samplings)} samples in one batch; at most {MAX_BATCH_SAMPLES}",
                             field="sampling", limit="samples", value=len(samplings))
        if grammar:
            self._check_grammar(grammar)
        started = time.perf_counter()
        prompt, template_stop = self._chat_prompt(system, user, shots)
        # the part before the user's text (system, shots, template) is what a node's calls share
        shared = _common_prefix(prompt, self._chat_prompt(system, "", shots)[0])
        n_ctx: int = self._llm.n_ctx()
        if len(prompt) >= n_ctx:  # as create_completion refuses it
            raise ModelError(f"the prompt has {len(prompt)} tokens and does not fit the context window "
                             f"(n_ctx = {n_ctx} tokens, SGDE_N_CTX)", field="sampling", limit="n_ctx",
                             value=len(prompt))
        # like create_completion, each sample is capped at what is left of the context window
        caps = [min(s.max_tokens, n_ctx - len(prompt)) for s in samplings]
        per_seq = len(prompt) + max(caps)
        if len(samplings) * per_seq > self.n_ctx_batch:
            raise ModelError(f"{len(samplings)} samples of up to {max(caps)} tokens after a {len(prompt)}-token "
                             f"prompt need {len(samplings)} x {per_seq} KV cells, more than the batch limit "
                             f"(n_ctx_batch = {self.n_ctx_batch}); lower the number of samples or max_tokens",
                             field="sampling", limit="n_ctx_batch", value=len(samplings) * per_seq)
        ctx = self._batch_context(len(samplings), per_seq)
        chains = []
        try:
            for sampling in samplings:
                chains.append(self._sampler_chain(sampling, grammar))
            outs, reasons = self._decode_batch(ctx, prompt, min(shared, len(prompt) - 1), chains, caps,
                                               [[*s.stop, *template_stop] for s in samplings])
        finally:
            for chain in chains:
                self._llama_cpp.llama_sampler_free(chain)
        share = (time.perf_counter() - started) / len(samplings)
        return [Generation(text=self._text(out, prompt, hit), tokens_in=len(prompt), tokens_out=len(out),
                           duration_s=share, finish_reason=reason)
                for out, (reason, hit) in zip(outs, reasons, strict=True)]

    def _chat_prompt(self, system: str, user: str, shots: tuple[Shot, ...]) -> tuple[list[int], list[str]]:
        """The prompt tokens and the template's stop strings, from the very chat handler `generate` uses."""
        llm = self._llm
        handler = (llm.chat_handler or llm._chat_handlers.get(llm.chat_format)
                   or self._llama_cpp.llama_chat_format.get_chat_completion_handler(llm.chat_format))
        try:
            handler(llama=_PromptCapture(llm), messages=self._messages(system, user, shots), stop=[])
        except _Captured as captured:
            return captured.prompt, captured.stop
        except ValueError as exc:  # e.g. the template raises on these messages
            raise ModelError(f"generation failed: {exc}", field="sampling") from None
        raise ModelError("the chat handler returned without building a prompt", field="student")

    def _batch_context(self, n_seq: int, per_seq: int) -> Any:
        """A llama context beside `self._llm`'s, on the same weights, with one KV stream per sequence.
        A unified cache would store the prompt once, but its sequences interleave their cells, so attention
        sums run in another order than `generate`'s and greedy samples part from `generate`'s on near-ties
        (measured: 15 of 40 on the tiny model); per-sequence streams give each sequence `generate`'s layout
        for the price of n copies of the prompt's cells. The other parameters are `self._llm`'s (threads,
        batch sizes, attention kind), so the prompt is evaluated as `generate` evaluates it."""
        lib = self._llama_cpp
        have_seq, have_cells = self._batch_shape
        if self._batch_ctx is None or have_seq < n_seq or have_cells < per_seq:
            self._free_batch_context()
            per_seq = math.ceil(per_seq / 256) * 256  # llama.cpp pads each stream so
            # grow to cover the last request too (a node repeats its shape), if that still fits the limit
            shape = (max(have_seq, n_seq), max(have_cells, per_seq))
            if shape[0] * shape[1] > self.n_ctx_batch:
                shape = (n_seq, per_seq)
            params = lib.llama_context_params.from_buffer_copy(self._llm.context_params)
            params.n_seq_max, params.n_ctx, params.kv_unified = shape[0], shape[0] * shape[1], False
            ctx = lib.llama_init_from_model(self._llm.model, params)
            if not ctx:
                raise ModelError(f"llama.cpp could not create a batch context of {shape[0]} x {shape[1]} KV cells "
                                 "(out of memory?)", field="sampling", limit="n_ctx_batch", value=shape[0] * shape[1])
            self._batch_ctx, self._batch_shape = ctx, shape
        return self._batch_ctx

    def _free_batch_context(self) -> None:
        ctx, self._batch_ctx, self._batch_shape = getattr(self, "_batch_ctx", None), None, (0, 0)
        self._batch_prefix = []
        if ctx is not None:
            self._llama_cpp.llama_free(ctx)

    def _sampler_chain(self, sampling: Sampling, grammar: str | None) -> Any:
        """`Llama._init_sampler`'s chain for these settings, minus its no-op penalties and typical-p stages."""
        lib = self._llama_cpp
        chain = lib.llama_sampler_chain_init(lib.llama_sampler_chain_default_params())
        if grammar:
            vocab = lib.llama_model_get_vocab(self._llm.model)
            stage = lib.llama_sampler_init_grammar(vocab, grammar.encode("utf-8"), b"root")
            if not stage:  # checked above; a NULL here would crash llama.cpp, so look again
                lib.llama_sampler_free(chain)
                raise ModelError("grammar does not parse as GBNF (or has no 'root' rule)", field="grammar")
            lib.llama_sampler_chain_add(chain, stage)
        if sampling.temperature == 0:
            lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_greedy())
        else:
            lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_top_k(sampling.top_k))
            lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_top_p(sampling.top_p, 1))
            lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_min_p(sampling.min_p, 1))
            lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_temp(sampling.temperature))
            lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_dist(sampling.seed))
        return chain

    def _decode_batch(self, ctx: Any, prompt: list[int], shared: int, chains: list[Any], caps: list[int],
                      stops: list[list[str]]) -> tuple[list[list[int]], list[tuple[str, bytes | None]]]:
        """Decode the prompt once on sequence 0, copy its cells to sequences 1..n-1, then step all
        running sequences together. Returns each sequence's tokens and (finish reason, stop string hit).

        Sequence 0 keeps the cells of ``prompt[:shared]`` for the next call, as `generate`'s context keeps
        its last prompt. The prompt is always evaluated in the same pieces, whatever is cached ([0, shared)
        and [shared, -1) in chunks of n_batch from their start, then the last token alone), because
        llama.cpp's sums may depend on how rows are batched: a call's result depends on the call only."""
        lib = self._llama_cpp
        n = len(chains)
        vocab = lib.llama_model_get_vocab(self._llm.model)
        memory = lib.llama_get_memory(ctx)
        stop_bytes = [[s.encode("utf-8") for s in stop] for stop in stops]
        outs: list[list[int]] = [[] for _ in range(n)]
        reasons: list[tuple[str, bytes | None]] = [("length", None)] * n
        batch = lib.llama_batch_init(max(self._llm.n_batch, n), 0, 1)
        try:
            if self._batch_prefix == prompt[:shared]:
                lib.llama_memory_seq_rm(memory, 0, shared, -1)
            else:
                self._batch_prefix = []
                lib.llama_memory_clear(memory, True)
                self._eval_prompt(ctx, batch, prompt, 0, shared)
                self._batch_prefix = prompt[:shared]
            self._eval_prompt(ctx, batch, prompt, shared, len(prompt) - 1)
            self._eval_prompt(ctx, batch, prompt, len(prompt) - 1, len(prompt))
            for seq in range(1, n):  # a full copy of the stream; the other streams are empty
                lib.llama_memory_seq_cp(memory, 0, seq, -1, -1)
            running = list(range(n))
            picks = {seq: lib.llama_sampler_sample(chains[seq], ctx, -1) for seq in running}
            while True:
                still = []
                for seq in running:
                    token = picks[seq]
                    if lib.llama_vocab_is_eog(vocab, token):
                        reasons[seq] = ("stop", None)
                        continue
                    outs[seq].append(token)
                    # create_completion's checks, in its order: a stop string in the text so far, then length
                    text = self._llm.detokenize(outs[seq], prev_tokens=prompt)
                    hit = next((s for s in stop_bytes[seq] if s in text), None)
                    if hit is not None:
                        reasons[seq] = ("stop", hit)
                    elif len(outs[seq]) < caps[seq]:
                        still.append(seq)
                running = still
                if not running:
                    break
                self._fill(batch, [(outs[seq][-1], len(prompt) + len(outs[seq]) - 1, seq, True) for seq in running])
                self._decode(ctx, batch)
                picks = {seq: lib.llama_sampler_sample(chains[seq], ctx, j) for j, seq in enumerate(running)}
        except BaseException:
            self._batch_prefix = []
            lib.llama_memory_clear(memory, True)
            raise
        finally:
            lib.llama_batch_free(batch)
        # keep only the shared prefix: the samples' cells and the other streams are freed
        lib.llama_memory_seq_rm(memory, 0, shared, -1)
        for seq in range(1, n):
            lib.llama_memory_seq_rm(memory, seq, -1, -1)
        return outs, reasons

    def _eval_prompt(self, ctx: Any, batch: Any, prompt: list[int], start: int, stop: int) -> None:
        """Evaluate prompt[start:stop] on sequence 0 in chunks of n_batch, each asking for its last logits
        (as `Llama.eval` does)."""
        n_batch: int = self._llm.n_batch
        for begin in range(start, stop, n_batch):
            end = min(begin + n_batch, stop)
            self._fill(batch, [(prompt[pos], pos, 0, pos == end - 1) for pos in range(begin, end)])
            self._decode(ctx, batch)

    @staticmethod
    def _fill(batch: Any, rows: list[tuple[int, int, int, bool]]) -> None:
        """(token, position, sequence, wants logits) per row."""
        for k, (token, pos, seq, logits) in enumerate(rows):
            batch.token[k] = token
            batch.pos[k] = pos
            batch.n_seq_id[k] = 1
            batch.seq_id[k][0] = seq
            batch.logits[k] = logits
        batch.n_tokens = len(rows)

    def _decode(self, ctx: Any, batch: Any) -> None:
        status = self._llama_cpp.llama_decode(ctx, batch)
        if status == 1:  # the context was sized for the request, so this is llama.cpp disagreeing
            n_seq, per_seq = self._batch_shape
            raise ModelError(f"llama.cpp found no KV slot for the batch (batch context of {n_seq} x {per_seq} "
                             "cells)", field="sampling", limit="n_ctx_batch", value=n_seq * per_seq)
        if status != 0:
            raise ModelError(f"llama_decode failed with status {status}", field="sampling")

    def _text(self, tokens: list[int], prompt: list[int], stop: bytes | None) -> str:
        """create_completion's text: everything before the stop string that ended the sample, if any."""
        text: bytes = self._llm.detokenize(tokens, prev_tokens=prompt)
        if stop is not None:
            text = text[:text.index(stop)]
        return text.decode("utf-8", errors="ignore")

    def close(self) -> None:
        self._free_batch_context()  # before the model it was made on
        llm, self._llm = getattr(self, "_llm", None), None
        if llm is not None:
            llm.close()


def json_schema_grammar(schema: dict[str, Any]) -> str:
    """GBNF text for a JSON schema (llama.cpp's own converter, run in a child process with a memory and CPU
    ceiling: the converter has no bounds of its own, see gbnf.py)."""
    if not llama_installed():
        _import_llama()  # the typed "not installed" error
    text, problem = grammar_from_json_schema(schema)
    if text is None:
        raise ModelError(f"cannot derive a grammar from the JSON schema: {problem}", field="grammar")
    return text
