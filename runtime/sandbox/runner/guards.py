"""The run-time guards RestrictedPython's rewritten code calls, and the checks behind them.

RestrictedPython rewrites attribute reads to ``_getattr_``, item reads to
``_getitem_``, writes to ``_write_``, loops to ``_getiter_``; here each hook is
wired to a guard.

The rule every guard follows: it never calls a method of a value node code
handed it. A name is copied to an exact ``str`` with ``str.__str__`` (which
cannot be overridden for the copy) before it is checked and used; types are
read with ``type()`` and compared by identity; dictionaries of classes and
instances are read through the base descriptors, so a class's own
``__eq__``/``__hash__``/``startswith`` never runs inside a check.

Runs inside the sandbox runner.
"""

from __future__ import annotations

import abc
import collections
import decimal
import operator
import string
import types
import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from .compile import DATA_MODEL_METHODS, DENIED_ATTRIBUTES, GUARDED_PUBLIC_NAMES


class GuardViolation(BaseException):
    """Raised inside the sandbox when code tries what the policy forbids.

    A BaseException, so ``except Exception`` does not swallow it; and every one raised is
    also recorded, so a call that catches it anyway still ends as a policy violation:
    probing the guards is not something a call survives.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        VIOLATIONS.append(message)


#: violations raised during the call in progress (the runner clears it per call)
VIOLATIONS: list[str] = []


_MISSING = object()

# Base descriptors, read once: calling them never consults the object's own hooks.
_TYPE_MRO = type.__dict__["__mro__"].__get__
_TYPE_DICT = type.__dict__["__dict__"].__get__
_FUNC_GLOBALS = types.FunctionType.__dict__["__globals__"].__get__
_SUPER_SELF_CLASS = super.__dict__["__self_class__"].__get__
_OBJECT_GETATTRIBUTE = object.__getattribute__


def exact_str(value: Any) -> str:
    """An exact ``str`` copy of a str (or str subclass) value; TypeError for anything else."""
    return value if type(value) is str else str.__str__(value)


# --- what node code owns ---------------------------------------------------------

#: classes created by sandboxed code (their instances may use _private attributes and be written to)
_SANDBOX_CLASSES: "weakref.WeakSet[type]" = weakref.WeakSet()
#: the globals of the call in progress: functions whose __globals__ it is were defined by node code
_CALL_GLOBALS: list[dict[str, Any]] = []


def register_sandbox_class(cls: type) -> None:
    _SANDBOX_CLASSES.add(cls)


def is_sandbox_class(obj: Any) -> bool:
    return type(obj) is type and obj in _SANDBOX_CLASSES  # type objects hash by identity


def _is_sandbox_instance(obj: Any) -> bool:
    return type(obj) in _SANDBOX_CLASSES


def is_node_function(obj: Any) -> bool:
    return type(obj) is types.FunctionType and bool(_CALL_GLOBALS) and _FUNC_GLOBALS(obj) is _CALL_GLOBALS[-1]


def set_call_globals(env: dict[str, Any]) -> None:
    _CALL_GLOBALS[:] = [env]


def _own_private(obj: Any, name: str) -> bool:
    """A _private attribute is readable only where the sandboxed code itself put it."""
    if type(obj) is type:
        if obj not in _SANDBOX_CLASSES:
            return False
        return any(klass in _SANDBOX_CLASSES and name in _TYPE_DICT(klass) for klass in _TYPE_MRO(obj))
    cls = type(obj)
    if cls not in _SANDBOX_CLASSES:
        return False
    try:
        instance_dict = _OBJECT_GETATTRIBUTE(obj, "__dict__")
    except AttributeError:
        instance_dict = None
    if type(instance_dict) is dict and dict.__contains__(instance_dict, name):
        return True
    return any(klass in _SANDBOX_CLASSES and name in _TYPE_DICT(klass) for klass in _TYPE_MRO(cls))


# --- attribute reads -----------------------------------------------------------------

#: objects whose attributes must never be read, whatever the name
_OPAQUE_TYPES = frozenset({types.FrameType, types.TracebackType, types.CodeType})
#: dunder attributes node code may read on anything: a name is a string
_READABLE_DUNDERS = frozenset({"__name__"})


def _refusal(obj: Any, name: str) -> str | None:
    """Why reading ``obj.<name>`` is refused, or None when it is allowed (``name`` is an exact str)."""
    kind = type(obj)
    if kind in _OPAQUE_TYPES:
        return f"access to attribute {name!r} of {kind.__name__} is not allowed"
    if name in DENIED_ATTRIBUTES:
        return f"access to attribute {name!r} is not allowed in the sandbox"
    if name == "register" and issubclass(kind, abc.ABCMeta):
        return ("registering classes with an abstract base class is not allowed in the sandbox (it would change "
                "isinstance() for every later call)")
    if not name.startswith("_"):
        return None
    if name.startswith("__") and name.endswith("__"):
        if name in _READABLE_DUNDERS:
            return None
        if kind is super and name in DATA_MODEL_METHODS and _SUPER_SELF_CLASS(obj) in _SANDBOX_CLASSES:
            return None  # super().__init__(...) and friends, from the code's own classes
    elif _own_private(obj, name):
        return None
    return f"access to attribute {name!r} is not allowed in the sandbox"


def guarded_getattr(obj: Any, name: Any, default: Any = _MISSING) -> Any:
    try:
        name = exact_str(name)
    except TypeError:
        raise TypeError("attribute name must be a string") from None
    refusal = _refusal(obj, name)
    if refusal is not None:
        raise GuardViolation(refusal)
    if name == "__new__" and type(obj) is super:
        return _checked_new(getattr(obj, name))
    try:
        value = getattr(obj, name)
    except AttributeError:
        if default is _MISSING:
            raise
        return default
    if name == "__name__" and type(value) is not str:
        raise GuardViolation("__name__ is not a string here")
    return _safe_value(value)


_STR_FORMAT, _STR_FORMAT_MAP = str.format, str.format_map


def _safe_value(value: Any) -> Any:
    """str.format/format_map, however reached (a str, a str subclass, super(), str itself), become the
    guarded formatter: the real ones look up attributes named in the format string."""
    kind = type(value)
    if kind is types.MethodDescriptorType:
        if value is _STR_FORMAT:
            return _unbound_format
        if value is _STR_FORMAT_MAP:
            return _unbound_format_map
    elif kind is types.BuiltinMethodType and isinstance(getattr(value, "__self__", None), str):
        name = value.__name__
        if name == "format":
            return _bound_format(exact_str(value.__self__))
        if name == "format_map":
            return _bound_format_map(exact_str(value.__self__))
    return value


def _checked_new(new: Callable[..., Any]) -> Callable[..., Any]:
    def __new__(cls: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_sandbox_class(cls):
            raise GuardViolation("super().__new__ may only create instances of the code's own classes")
        return new(cls, *args, **kwargs)
    return __new__


def guarded_hasattr(obj: Any, name: Any) -> bool:
    """hasattr: a refused name is simply absent (an answer, not a violation); the lookup itself is guarded."""
    try:
        name = exact_str(name)
    except TypeError:
        raise TypeError("attribute name must be a string") from None
    if _refusal(obj, name) is not None:
        return False
    try:
        getattr(obj, name)
    except AttributeError:
        return False
    return True


# --- str.format and format_map ------------------------------------------------------------

class SafeFormatter(string.Formatter):
    """str.format whose field lookups ({0.attr}, {0[key]}) go through the guards."""

    def get_field(self, field_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> tuple[Any, int | str]:
        first, rest = _field_name_split(exact_str(field_name))
        obj = self.get_value(first, args, kwargs)
        for is_attr, key in rest:
            obj = guarded_getattr(obj, key) if is_attr else guarded_getitem(obj, key)
        return obj, first

    def get_value(self, key: int | str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        if type(key) is int:
            return args[key]
        return kwargs[exact_str(key)]


def _field_name_split(field_name: str) -> tuple[int | str, Iterable[tuple[bool, int | str]]]:
    import _string
    return _string.formatter_field_name_split(field_name)  # type: ignore[no-any-return]  # _string has no stub


_FORMATTER = SafeFormatter()


def _bound_format(template: str) -> Callable[..., str]:
    def format(*args: Any, **kwargs: Any) -> str:  # noqa: A001 - mirrors str.format
        return _FORMATTER.vformat(template, args, kwargs)
    return format


def _bound_format_map(template: str) -> Callable[[Any], str]:
    def format_map(mapping: Any) -> str:
        return _FORMATTER.vformat(template, (), mapping)
    return format_map


def _unbound_format(template: Any, *args: Any, **kwargs: Any) -> str:
    return _FORMATTER.vformat(exact_str(template), args, kwargs)


def _unbound_format_map(template: Any, mapping: Any) -> str:
    return _FORMATTER.vformat(exact_str(template), (), mapping)


# --- items, iteration, writes -----------------------------------------------------------------

def guarded_getitem(obj: Any, key: Any) -> Any:
    if issubclass(type(obj), types.MappingProxyType) and (type(key) is not str or key.startswith("__")):
        raise GuardViolation("item access to special names of a read-only namespace is not allowed")
    return obj[key]


def guarded_getiter(obj: Any, *sentinel: Any) -> Iterator[Any]:
    if sentinel:
        return iter(obj, *sentinel)  # iter(callable, sentinel): calls node code's own callable
    if type(obj) in _OPAQUE_TYPES:
        raise GuardViolation(f"iterating over {type(obj).__name__} is not allowed")
    return iter(obj)


#: containers node code builds for itself (module facades never hand out a mutable one)
_WRITABLE_TYPES = frozenset({dict, list, set, bytearray, decimal.Context, type(decimal.Context().traps),
                             collections.Counter, collections.defaultdict, collections.OrderedDict,
                             collections.deque, collections.ChainMap, collections.UserDict, collections.UserList})


def guarded_write(obj: Any) -> Any:
    """Target of item/attribute assignment: plain containers and the code's own objects only."""
    kind = type(obj)
    if kind in _WRITABLE_TYPES or kind in _SANDBOX_CLASSES or (kind is type and obj in _SANDBOX_CLASSES):
        return obj
    raise GuardViolation(f"modifying {kind.__name__} objects is not allowed in the sandbox")


_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow, "<<=": operator.ilshift,
    ">>=": operator.irshift, "&=": operator.iand, "^=": operator.ixor, "|=": operator.ior,
    "@=": operator.imatmul,
}


def inplacevar(op: str, target: Any, value: Any) -> Any:
    return _INPLACE[op](target, value)


def guarded_apply(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


# --- classes and type() ---------------------------------------------------------------------

_ALLOWED_BASE_TYPES = frozenset({object, dict, list, tuple, set, frozenset, int, float, str, Exception,
                                 ValueError, TypeError, KeyError, IndexError, ArithmeticError, LookupError,
                                 RuntimeError, ZeroDivisionError, NotImplementedError, AssertionError})
#: names a class body may bind that start with "__" (the compiler adds the first five)
_CLASS_DUNDERS = frozenset({"__module__", "__qualname__", "__doc__", "__classcell__", "__annotations__",
                            "__orig_bases__", "__match_args__"}) | DATA_MODEL_METHODS


def make_class(name: str, bases: tuple[Any, ...], namespace: dict[str, Any], **kwargs: Any) -> type:
    """Metaclass for `class` statements in sandboxed code: plain bases only, then remembered."""
    if kwargs:
        raise GuardViolation("class keywords are not allowed in the sandbox")
    name = exact_str(name)
    if type(bases) is not tuple or type(namespace) is not dict:
        raise GuardViolation("class creation with unexpected arguments")
    for base in bases:
        if type(base) is not type or not (base in _ALLOWED_BASE_TYPES or base in _SANDBOX_CLASSES):
            shown = base.__name__ if type(base) is type else type(base).__name__
            raise GuardViolation(f"class {name!r} may not derive from {shown!r}")
    for key in namespace:
        if type(key) is not str or (key.startswith("__") and key not in _CLASS_DUNDERS):
            raise GuardViolation(f"class {name!r} may not define {key!r}")
    if "__match_args__" in namespace:  # match reads these attributes with a plain getattr: public names only
        names = namespace["__match_args__"]
        if type(names) is not tuple or any(type(n) is not str or n.startswith("_") or n in DENIED_ATTRIBUTES
                                           or n in GUARDED_PUBLIC_NAMES for n in names):
            raise GuardViolation(f"class {name!r}: __match_args__ must be a tuple of public attribute names")
    cls = type(name, bases, namespace)
    _SANDBOX_CLASSES.add(cls)
    return cls


def safe_type(*args: Any) -> type:
    if len(args) != 1:
        raise GuardViolation("type() may only be called with one argument in the sandbox")
    kind = type(args[0])
    if issubclass(kind, type):
        raise GuardViolation("type() of a class is not available in the sandbox (it would be a metaclass)")
    return kind


class _TypeMeta(type):
    def __call__(cls, *args: Any) -> type:
        return safe_type(*args)

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, type)

    def __subclasscheck__(cls, sub: Any) -> bool:
        return issubclass(sub, type)


class SafeType(metaclass=_TypeMeta):
    """What node code calls `type`: type(x) with one argument, and isinstance(x, type) as usual."""
