"""The globals one call of node code runs with: safe builtins, the guard hooks, import, print.

`make_globals` builds a fresh namespace for every call (and resets the
stdlib's per-process state), so nothing a call defines or changes is there
for the next one. `make_plain_globals` is for ``language_guard: none``
(docker only) and for the test-only switch that turns the language guard off
to prove the operating-system wall alone.
"""

from __future__ import annotations

import builtins
import functools
import sys
from typing import TYPE_CHECKING, Any

from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence

from .facades import module_facade, reset_call_state, touch_module
from .guards import (
    VIOLATIONS,
    GuardViolation,
    SafeType,
    exact_str,
    guarded_apply,
    guarded_getattr,
    guarded_getitem,
    guarded_getiter,
    guarded_hasattr,
    guarded_write,
    inplacevar,
    make_class,
    set_call_globals,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from types import ModuleType

    from .facades import ModuleFacade

_SAFE_BUILTIN_NAMES = (
    "abs", "all", "any", "ascii", "bin", "bool", "bytes", "callable", "chr", "complex", "dict", "divmod",
    "enumerate", "filter", "float", "format", "frozenset", "hash", "hex", "int", "isinstance", "issubclass",
    "len", "list", "map", "max", "min", "next", "object", "oct", "ord", "pow", "range", "repr", "reversed",
    "round", "set", "slice", "sorted", "str", "sum", "tuple", "zip", "property", "staticmethod", "classmethod",
    "super", "True", "False", "None", "NotImplemented", "Ellipsis",
    "BaseException", "Exception", "ArithmeticError", "AssertionError", "AttributeError", "IndexError",
    "KeyError", "LookupError", "NameError", "NotImplementedError", "OverflowError", "RecursionError",
    "RuntimeError", "StopIteration", "TypeError", "ValueError", "ZeroDivisionError", "MemoryError",
    "UnicodeError", "FloatingPointError",
)
#: modules C code imports lazily through the calling frame's __import__ (datetime.strftime -> time,
#: datetime.strptime -> _strptime, Pattern.sub with a template -> re). CPython's PyImport_Import ignores
#: what __import__ returns and reads sys.modules, so these get None: nothing is handed out
_INTERNAL_IMPORTS = frozenset({"time", "_strptime", "re"})


def _guarded_import(allowed: frozenset[str]) -> Callable[..., ModuleFacade | None]:
    def __import__(name: Any, globals: Any = None, locals: Any = None, fromlist: Any = (),  # noqa: A002
                   level: Any = 0) -> ModuleFacade | None:
        name = exact_str(name)
        if level:
            raise GuardViolation("relative imports are not allowed")
        # CPython's PyImport_Import passes an empty list; an import statement passes None or a tuple
        if name in _INTERNAL_IMPORTS and type(fromlist) is list and not fromlist and name in sys.modules:
            return None
        if name not in allowed:
            raise GuardViolation(f"import of {name!r} is not allowed by the policy")
        touch_module(name)
        return module_facade(name)
    return __import__


def _make_builtins(allowed_imports: frozenset[str]) -> dict[str, Any]:
    table = {name: getattr(builtins, name) for name in _SAFE_BUILTIN_NAMES}
    table.update({
        "getattr": guarded_getattr, "hasattr": guarded_hasattr, "iter": guarded_getiter, "type": SafeType,
        "__import__": _guarded_import(allowed_imports), "__build_class__": builtins.__build_class__,
    })
    return table


_BUILTINS_CACHE: dict[frozenset[str], dict[str, Any]] = {}


class PrintBuffer:
    """print() output of one call: kept up to ``cap`` characters, the rest counted and dropped."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.parts: list[str] = []
        self.size = 0
        self.attempted = 0

    def write(self, text: str) -> None:
        self.attempted += len(text)
        room = self.cap - self.size
        if room > 0:
            piece = text[:room]
            self.parts.append(piece)
            self.size += len(piece)
        if self.attempted > 10 * self.cap:
            raise PrintFlood(self.attempted)

    @property
    def truncated(self) -> bool:
        return self.attempted > self.size

    def text(self) -> str:
        return "".join(self.parts)


class PrintFlood(BaseException):
    """print() output went far past the cap: stop the call (BaseException so `except Exception` won't eat it)."""


def _text(value: Any) -> str:
    """str(value), as an exact str (a str subclass's own methods never run on our side)."""
    return exact_str(str(value))


def _print_line(buffer: PrintBuffer, objects: tuple[Any, ...], sep: Any, end: Any) -> None:
    sep = " " if sep is None else _text(sep)
    end = "\n" if end is None else _text(end)
    buffer.write(str.join(sep, [_text(o) for o in objects]) + end)


class _PrintCollector:
    """RestrictedPython's print target: ``_print_(_getattr_)`` makes one per function that prints."""

    def __init__(self, buffer: PrintBuffer, _getattr_: Any = None) -> None:
        self._buffer = buffer

    def _call_print(self, *objects: Any, sep: Any = " ", end: Any = "\n", file: Any = None,
                    flush: Any = False) -> None:
        if file is not None:
            raise GuardViolation("print(file=...) is not allowed in the sandbox")
        _print_line(self._buffer, objects, sep, end)

    def __call__(self) -> str:
        return self._buffer.text()


def make_globals(allowed_imports: frozenset[str], buffer: PrintBuffer) -> dict[str, Any]:
    """Fresh globals for one call: nothing carries over from the previous run."""
    table = _BUILTINS_CACHE.get(allowed_imports)
    if table is None:
        table = _BUILTINS_CACHE[allowed_imports] = _make_builtins(allowed_imports)
    reset_call_state()
    VIOLATIONS.clear()
    env = {
        "__builtins__": table, "__name__": "sandbox", "__metaclass__": make_class,
        "_getattr_": guarded_getattr, "_getitem_": guarded_getitem, "_getiter_": guarded_getiter,
        "_write_": guarded_write, "_inplacevar_": inplacevar, "_apply_": guarded_apply,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence, "_unpack_sequence_": guarded_unpack_sequence,
        "_print_": functools.partial(_PrintCollector, buffer),
    }
    set_call_globals(env)
    return env


def make_plain_globals(allowed_imports: frozenset[str] | None, buffer: PrintBuffer) -> dict[str, Any]:
    """Plain Python: real builtins and modules, the import allow-list (None: anything) and the capped print.

    For ``language_guard: none`` (docker only, the container is the wall) and for the
    test-only switch that removes the language guard to prove the OS wall alone.
    """
    real_import = builtins.__import__

    def __import__(name: str, globals: Mapping[str, object] | None = None,  # noqa: A002
                   locals: Mapping[str, object] | None = None, fromlist: Sequence[str] = (),
                   level: int = 0) -> ModuleType:
        if allowed_imports is not None and (level or name.split(".")[0] not in allowed_imports):
            raise GuardViolation(f"import of {name!r} is not allowed by the policy")
        return real_import(name, globals, locals, fromlist, level)

    def print(*objects: Any, sep: Any = " ", end: Any = "\n", file: Any = None,  # noqa: A001
              flush: Any = False) -> None:
        _print_line(buffer, objects, sep, end)

    table = dict(vars(builtins))
    table.update({"__import__": __import__, "print": print})
    reset_call_state()
    return {"__builtins__": table, "__name__": "sandbox"}
