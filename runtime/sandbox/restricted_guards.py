"""The globals node code runs with: safe builtins, guarded hooks, module facades.

RestrictedPython rewrites attribute reads to ``_getattr_``, item reads to
``_getitem_``, writes to ``_write_``, loops to ``_getiter_``; out of the box
those hooks are unguarded or missing. Here each one is wired to a guard.
Modules are handed out as frozen facades holding only their public, non-module
members: a real module object leaks ``sys`` and ``builtins`` through public
attributes (``fractions.sys``, ``json.codecs.builtins``).

Runs inside the sandbox worker process.
"""

from __future__ import annotations

import builtins
import decimal
import importlib
import operator
import os
import random
import string
import types
import weakref
from typing import Any

from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence

from .restricted_compile import DENIED_ATTRIBUTES


class GuardViolation(Exception):
    """Raised inside the sandbox when code tries what the policy forbids."""


#: classes created by sandboxed code (their instances may use _private attributes)
_SANDBOX_CLASSES: "weakref.WeakSet[type]" = weakref.WeakSet()
#: objects whose attributes must never be read, whatever the name
_OPAQUE_TYPES = (types.FrameType, types.TracebackType, types.CodeType)
#: C code may import these itself (datetime.strptime imports _strptime through __import__)
_INTERNAL_IMPORTS = frozenset({"_strptime"})
_MISSING = object()


# --- module facades ------------------------------------------------------------

class ModuleFacade:
    """Read-only stand-in for a module: public functions, classes and constants only."""

    def __init__(self, name: str, members: dict[str, Any], hidden: frozenset[str] = frozenset()) -> None:
        object.__setattr__(self, "_facade_name", name)
        object.__setattr__(self, "_facade_hidden", hidden)
        self.__dict__.update(members)

    def __getattr__(self, name: str) -> Any:  # only called for names the facade does not carry
        if name in self._facade_hidden:
            raise GuardViolation(f"{self._facade_name}.{name} is not available in the sandbox (module facades "
                                 "carry only public functions, classes and constants)")
        raise AttributeError(f"module {self._facade_name!r} has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise GuardViolation(f"module {self._facade_name!r} is read-only in the sandbox")

    def __delattr__(self, name: str) -> None:
        raise GuardViolation(f"module {self._facade_name!r} is read-only in the sandbox")

    def __repr__(self) -> str:
        return f"<module {self._facade_name!r} (sandbox facade)>"


def _public_members(module: types.ModuleType) -> dict[str, Any]:
    names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
    members = {}
    for name in names:
        if name.startswith("_"):
            continue
        value = getattr(module, name, None)
        if isinstance(value, types.ModuleType) or value is None:
            continue
        members[name] = value
    return members


_FACADES: dict[str, ModuleFacade] = {}


def module_facade(name: str) -> ModuleFacade:
    if name == "random":
        return _random_facade()  # per call: no state shared between runs
    facade = _FACADES.get(name)
    if facade is None:
        module = importlib.import_module(name)
        members = _public_members(module)
        facade = _FACADES[name] = ModuleFacade(name, members, frozenset(dir(module)) - set(members))
    return facade


def _random_facade() -> ModuleFacade:
    members = _public_members(random)
    rng = random.Random(os.urandom(16))
    for name, value in list(members.items()):
        if isinstance(value, types.MethodType) and value.__self__ is getattr(random, "_inst", None):
            members[name] = getattr(rng, name)
    return ModuleFacade("random", members, frozenset(dir(random)) - set(members))


def warm_up() -> None:
    """Import what node code commonly needs before limits apply (and before the first call)."""
    import datetime
    datetime.datetime.strptime("2000", "%Y")  # imports _strptime


# --- guards --------------------------------------------------------------------

def _is_sandbox_object(obj: Any) -> bool:
    cls = obj if isinstance(obj, type) else type(obj)
    return cls in _SANDBOX_CLASSES


def _own_private(obj: Any, name: str) -> bool:
    """A _private attribute is readable only where the sandboxed code itself put it."""
    if not _is_sandbox_object(obj):
        return False
    instance_dict = obj.__dict__ if hasattr(obj, "__dict__") else {}
    if not isinstance(obj, type) and isinstance(instance_dict, dict) and name in instance_dict:
        return True
    cls = obj if isinstance(obj, type) else type(obj)
    return any(klass in _SANDBOX_CLASSES and name in klass.__dict__ for klass in cls.__mro__)


class SafeFormatter(string.Formatter):
    """str.format whose field lookups ({0.attr}, {0[key]}) go through the guards."""

    def get_field(self, field_name, args, kwargs):
        first, rest = _string_formatter_field_name_split(field_name)
        obj = self.get_value(first, args, kwargs)
        for is_attr, key in rest:
            obj = guarded_getattr(obj, key) if is_attr else guarded_getitem(obj, key)
        return obj, first


def _string_formatter_field_name_split(field_name):
    import _string
    return _string.formatter_field_name_split(field_name)


_FORMATTER = SafeFormatter()


def _safe_format(template: str):
    def format(*args, **kwargs):  # noqa: A001 - mirrors str.format
        return _FORMATTER.vformat(template, args, kwargs)
    return format


def _safe_format_map(template: str):
    def format_map(mapping):
        return _FORMATTER.vformat(template, (), mapping)
    return format_map


def _unbound_format(template, *args, **kwargs):
    if not isinstance(template, str):
        raise TypeError("str.format needs a str")
    return _FORMATTER.vformat(template, args, kwargs)


def _unbound_format_map(template, mapping):
    if not isinstance(template, str):
        raise TypeError("str.format_map needs a str")
    return _FORMATTER.vformat(template, (), mapping)


def guarded_getattr(obj: Any, name: Any, default: Any = _MISSING) -> Any:
    if not isinstance(name, str):
        raise TypeError("attribute name must be a string")
    if name.startswith("_") and not (not name.startswith("__") and _own_private(obj, name)):
        raise GuardViolation(f"access to attribute {name!r} is not allowed in the sandbox")
    if name in DENIED_ATTRIBUTES or isinstance(obj, _OPAQUE_TYPES):
        raise GuardViolation(f"access to attribute {name!r} of {type(obj).__name__} is not allowed")
    if name in ("format", "format_map"):
        if isinstance(obj, str):
            return _safe_format(obj) if name == "format" else _safe_format_map(obj)
        if isinstance(obj, type) and issubclass(obj, str):
            return _unbound_format if name == "format" else _unbound_format_map
    if isinstance(obj, type) and issubclass(obj, string.Formatter):
        raise GuardViolation("string.Formatter is not allowed in the sandbox")
    try:
        return getattr(obj, name)
    except AttributeError:
        if default is _MISSING:
            raise
        return default


def guarded_hasattr(obj: Any, name: Any) -> bool:
    try:
        guarded_getattr(obj, name)
    except (AttributeError, GuardViolation):
        return False
    return True


def guarded_getitem(obj: Any, key: Any) -> Any:
    if isinstance(obj, (types.MappingProxyType, ModuleFacade)):
        raise GuardViolation(f"item access on {type(obj).__name__} is not allowed")
    return obj[key]


def guarded_getiter(obj: Any):
    if isinstance(obj, _OPAQUE_TYPES):
        raise GuardViolation(f"iterating over {type(obj).__name__} is not allowed")
    return iter(obj)


_WRITABLE_TYPES = (dict, list, set, bytearray, decimal.Context)


def guarded_write(obj: Any) -> Any:
    """Target of item/attribute assignment: plain containers and the code's own objects only."""
    if isinstance(obj, _WRITABLE_TYPES) and not isinstance(obj, type) or _is_sandbox_object(obj):
        return obj
    raise GuardViolation(f"modifying {type(obj).__name__} objects is not allowed in the sandbox")


_INPLACE = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow, "<<=": operator.ilshift,
    ">>=": operator.irshift, "&=": operator.iand, "^=": operator.ixor, "|=": operator.ior,
    "@=": operator.imatmul,
}


def inplacevar(op: str, target: Any, value: Any) -> Any:
    return _INPLACE[op](target, value)


def guarded_apply(func, *args, **kwargs):
    return func(*args, **kwargs)


def safe_type(*args):
    if len(args) != 1:
        raise GuardViolation("type() may only be called with one argument in the sandbox")
    return type(args[0])


_ALLOWED_BASE_TYPES = frozenset({object, dict, list, tuple, set, frozenset, int, float, str, Exception,
                                 ValueError, TypeError, KeyError, IndexError, ArithmeticError, LookupError,
                                 RuntimeError, ZeroDivisionError, NotImplementedError, AssertionError})


def make_class(name: str, bases: tuple, namespace: dict, **kwargs: Any) -> type:
    """Metaclass for `class` statements in sandboxed code: plain bases only, then remembered."""
    if kwargs:
        raise GuardViolation("class keywords are not allowed in the sandbox")
    for base in bases:
        if base not in _ALLOWED_BASE_TYPES and base not in _SANDBOX_CLASSES:
            raise GuardViolation(f"class {name!r} may not derive from {getattr(base, '__name__', base)!r}")
    cls = type(name, bases, namespace)
    _SANDBOX_CLASSES.add(cls)
    return cls


# --- builtins ------------------------------------------------------------------

_SAFE_BUILTIN_NAMES = (
    "abs", "all", "any", "ascii", "bin", "bool", "bytes", "callable", "chr", "complex", "dict", "divmod",
    "enumerate", "filter", "float", "format", "frozenset", "hash", "hex", "int", "isinstance", "issubclass",
    "len", "list", "map", "max", "min", "next", "object", "oct", "ord", "pow", "range", "repr", "reversed",
    "round", "set", "slice", "sorted", "str", "sum", "tuple", "zip", "property", "staticmethod", "classmethod",
    "super", "True", "False", "None", "NotImplemented", "Ellipsis",
    "BaseException", "Exception", "ArithmeticError", "AssertionError", "AttributeError", "IndexError",
    "KeyError", "LookupError", "NameError", "NotImplementedError", "OverflowError", "RecursionError",
    "RuntimeError", "StopIteration", "TypeError", "ValueError", "ZeroDivisionError", "MemoryError",
    "UnicodeError", "ArithmeticError", "FloatingPointError",
)


def _guarded_import(allowed: frozenset[str]):
    def __import__(name, globals=None, locals=None, fromlist=(), level=0):  # noqa: A002
        if level:
            raise GuardViolation("relative imports are not allowed")
        if name in _INTERNAL_IMPORTS:
            return importlib.import_module(name)  # only reachable from C code: source imports were refused
        if name not in allowed:
            raise GuardViolation(f"import of {name!r} is not allowed by the policy")
        return module_facade(name)
    return __import__


def _make_builtins(allowed_imports: frozenset[str]) -> dict[str, Any]:
    table = {name: getattr(builtins, name) for name in _SAFE_BUILTIN_NAMES}
    table.update({
        "getattr": guarded_getattr, "hasattr": guarded_hasattr, "iter": guarded_getiter, "type": safe_type,
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


def _print_factory(buffer: PrintBuffer):
    class Collector:
        def __init__(self, _getattr_=None):
            pass

        def _call_print(self, *objects, sep=" ", end="\n", file=None, flush=False):
            if file is not None:
                raise GuardViolation("print(file=...) is not allowed in the sandbox")
            buffer.write(str(sep).join(str(o) for o in objects) + str(end))

        def __call__(self):
            return buffer.text()
    return Collector


def make_globals(allowed_imports: frozenset[str], buffer: PrintBuffer) -> dict[str, Any]:
    """Fresh globals for one call: nothing carries over from the previous run."""
    table = _BUILTINS_CACHE.get(allowed_imports)
    if table is None:
        table = _BUILTINS_CACHE[allowed_imports] = _make_builtins(allowed_imports)
    decimal.setcontext(decimal.Context())
    return {
        "__builtins__": table, "__name__": "sandbox", "__metaclass__": make_class,
        "_getattr_": guarded_getattr, "_getitem_": guarded_getitem, "_getiter_": guarded_getiter,
        "_write_": guarded_write, "_inplacevar_": inplacevar, "_apply_": guarded_apply,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence, "_unpack_sequence_": guarded_unpack_sequence,
        "_print_": _print_factory(buffer),
    }


def make_plain_globals(allowed_imports: frozenset[str], buffer: PrintBuffer) -> dict[str, Any]:
    """Globals for language_guard: none (docker only): real builtins and modules, but still the
    policy's import allow-list and the capped print; the container is the wall."""
    real_import = builtins.__import__

    def __import__(name, globals=None, locals=None, fromlist=(), level=0):  # noqa: A002
        if level or name.split(".")[0] not in allowed_imports:
            raise GuardViolation(f"import of {name!r} is not allowed by the policy")
        return real_import(name, globals, locals, fromlist, level)

    def print(*objects, sep=" ", end="\n", file=None, flush=False):  # noqa: A001
        buffer.write(str(sep).join(str(o) for o in objects) + str(end))

    table = dict(vars(builtins))
    table.update({"__import__": __import__, "print": print})
    decimal.setcontext(decimal.Context())
    return {"__builtins__": table, "__name__": "sandbox"}
