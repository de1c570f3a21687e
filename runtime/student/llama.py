"""The llama.cpp student: llama-cpp-python in process, on CPU."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from ..errors import ModelError
from ..plan import Sampling, Shot
from ..settings import settings
from .base import Generation, Student
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


def _threads_from_env() -> int:
    """SGDE_N_THREADS, or every core. llama.cpp's sums depend on the thread count, so a replay
    is byte-identical only with the thread count of the recording."""
    return settings("n_threads").n_threads


class LlamaStudent(Student):
    """A GGUF model through llama-cpp-python; the chat template comes from the model file."""

    def __init__(self, model: str | os.PathLike[str] | None = None, *, n_ctx: int | None = None,
                 n_threads: int | None = None) -> None:
        path, pinned = resolve_model(model)
        llama_cpp = _import_llama()
        self.model_path = Path(path)
        self.model_name = self.model_path.name
        self.model_sha256 = pinned
        self._grammars: dict[str, object] = {}
        self._llama_cpp = llama_cpp
        n_ctx = n_ctx or settings("n_ctx").n_ctx
        self.n_threads = n_threads or _threads_from_env()
        try:
            self._llm = llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx,
                                        n_threads=self.n_threads, n_threads_batch=self.n_threads,
                                        verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"llama.cpp could not load {path}: {exc}; the file may be corrupt or not a "
                             "supported GGUF model", field="model") from None

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

    def _check_grammar(self, gbnf: str) -> None:
        """llama.cpp returns NULL for a grammar it cannot parse and llama-cpp-python then
        segfaults; build the grammar sampler once ourselves and look before we leap."""
        lib = self._llama_cpp
        vocab = lib.llama_model_get_vocab(self._llm.model)
        sampler = lib.llama_sampler_init_grammar(vocab, gbnf.encode("utf-8"), b"root")
        if not sampler:
            raise ModelError("grammar does not parse as GBNF (or has no 'root' rule)", field="grammar")
        lib.llama_sampler_free(sampler)

    def generate(self, system: str, user: str, sampling: Sampling, *, grammar: str | None = None,
                 shots: tuple[Shot, ...] = ()) -> Generation:
        messages = [{"role": "system", "content": system}] if system else []
        for shot in shots:
            messages += [{"role": "user", "content": shot.user}, {"role": "assistant", "content": shot.assistant}]
        messages.append({"role": "user", "content": user})
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

    def close(self) -> None:
        llm, self._llm = getattr(self, "_llm", None), None
        if llm is not None:
            llm.close()


def json_schema_grammar(schema: dict[str, Any]) -> str:
    """GBNF text for a JSON schema (llama.cpp's own converter)."""
    import json

    if not llama_installed():
        _import_llama()  # the typed "not installed" error
    from llama_cpp.llama_grammar import json_schema_to_gbnf
    try:
        grammar: str = json_schema_to_gbnf(json.dumps(schema))
        return grammar
    except Exception as exc:  # the converter raises bare Exceptions on unsupported schemas
        raise ModelError(f"cannot derive a grammar from the JSON schema: {exc}", field="grammar") from None
