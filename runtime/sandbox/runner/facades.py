"""What `import` gives node code: frozen facades of the allowed modules.

A real module object leaks ``sys`` and ``builtins`` through public attributes
(``fractions.sys``, ``json.codecs.builtins``), so node code gets a facade that
holds only public functions, classes and constants, and cannot be written to.

Some public stdlib callables do attribute access, attribute writes, global
lookups or string evaluation *on the caller's behalf*, with names the caller
picks, out of the guards' sight (``functools.update_wrapper(f, g,
updated=("__globals__",))`` merges a real module's globals into the
sandbox's). Each such member is listed below with the decision taken: dropped,
or replaced by a wrapper that routes the access through the guards. The
README's security section carries the same table.

State the stdlib keeps per process (decimal's shared contexts, random's hidden
generator) is made fresh for every call by `reset_call_state`, so a call
cannot leave something behind for the next one even when both run in the same
process (``isolation: per_node``).
"""

from __future__ import annotations

import collections
import decimal
import functools
import importlib
import os
import random
import re
import types
from typing import Any

from .guards import (
    GuardViolation,
    exact_str,
    guarded_getattr,
    guarded_getitem,
    guarded_write,
    is_node_function,
    is_sandbox_class,
    register_sandbox_class,
)

#: members never handed out, per module, and why (mirrored in the README)
DROPPED: dict[str, dict[str, str]] = {
    "functools": {
        "singledispatch": "register() evaluates string annotations with eval() in the function's globals",
        "singledispatchmethod": "same as singledispatch",
        "partialmethod": "a descriptor factory whose binding runs outside the guards; never needed by node code",
    },
    "string": {"Formatter": "get_field() does getattr/getitem with names taken from the format string"},
    "collections": {"UserString": "its format()/format_map() call the real str.format on .data, whose fields "
                                  "read attributes named in the format string"},
    "decimal": {"HAVE_CONTEXTVAR": "process detail", "HAVE_THREADS": "process detail"},
}


def _safe_update_wrapper(wrapper: Any, wrapped: Any, assigned: Any = functools.WRAPPER_ASSIGNMENTS,
                         updated: Any = functools.WRAPPER_UPDATES) -> Any:
    """functools.update_wrapper for decorators: names and docstring only, between the code's own functions.

    The real one reads and writes whatever attributes `assigned`/`updated` name (``__globals__``,
    ``__code__``, ``__kwdefaults__``) on whatever objects it is given.
    """
    if not is_node_function(wrapper):
        raise GuardViolation("functools.update_wrapper/wraps may only update a function the code defined")
    if tuple(assigned) != functools.WRAPPER_ASSIGNMENTS or tuple(updated) != functools.WRAPPER_UPDATES:
        raise GuardViolation("functools.update_wrapper/wraps take only the default assigned/updated names here")
    if is_node_function(wrapped):
        functools.update_wrapper(wrapper, wrapped)
    return wrapper


def _safe_wraps(wrapped: Any, assigned: Any = functools.WRAPPER_ASSIGNMENTS,
                updated: Any = functools.WRAPPER_UPDATES) -> functools.partial[Any]:
    return functools.partial(_safe_update_wrapper, wrapped=wrapped, assigned=assigned, updated=updated)


def _safe_total_ordering(cls: Any) -> type[Any]:
    if not is_sandbox_class(cls):
        raise GuardViolation("functools.total_ordering may only decorate a class the code defined")
    return functools.total_ordering(cls)


def _dotted(name: Any) -> tuple[str, ...]:
    return tuple(exact_str(name).split("."))


class _AttrGetter:
    """operator.attrgetter whose lookups go through the guard."""

    def __init__(self, *names: Any) -> None:
        if not names:
            raise TypeError("attrgetter expected 1 argument, got 0")
        self.paths = tuple(_dotted(n) for n in names)

    def _one(self, obj: Any, path: tuple[str, ...]) -> Any:
        for part in path:
            obj = guarded_getattr(obj, part)
        return obj

    def __call__(self, obj: Any) -> Any:
        if len(self.paths) == 1:
            return self._one(obj, self.paths[0])
        return tuple(self._one(obj, p) for p in self.paths)


class _MethodCaller:
    """operator.methodcaller whose lookup goes through the guard."""

    def __init__(self, name: Any, /, *args: Any, **kwargs: Any) -> None:
        self.name, self.args, self.kwargs = exact_str(name), args, kwargs

    def __call__(self, obj: Any) -> Any:
        return guarded_getattr(obj, self.name)(*self.args, **self.kwargs)


def _safe_setitem(obj: Any, key: Any, value: Any) -> None:
    guarded_write(obj)[key] = value


def _safe_delitem(obj: Any, key: Any) -> None:
    del guarded_write(obj)[key]


def _safe_namedtuple(typename: Any, field_names: Any, *, rename: Any = False, defaults: Any = None,
                     module: Any = None) -> type[tuple[Any, ...]]:
    """collections.namedtuple on exact-str names; the class counts as the code's own (so ``_asdict`` works)."""
    typename = exact_str(typename)
    if type(field_names) is str or isinstance(field_names, str):
        fields: Any = exact_str(field_names)
    else:
        fields = [exact_str(f) for f in list(field_names)]
    # mypy analyses namedtuple() only with literal arguments; these are the caller's, copied to exact strs above
    cls = collections.namedtuple(typename, fields, rename=bool(rename), defaults=defaults, module="sandbox")  # type: ignore[misc, arg-type]
    register_sandbox_class(cls)
    return cls


#: members replaced by a guarded version, per module
WRAPPED: dict[str, dict[str, Any]] = {
    "functools": {"update_wrapper": _safe_update_wrapper, "wraps": _safe_wraps,
                  "total_ordering": _safe_total_ordering},
    "operator": {"attrgetter": _AttrGetter, "methodcaller": _MethodCaller, "setitem": _safe_setitem,
                 "delitem": _safe_delitem, "getitem": guarded_getitem},
    "collections": {"namedtuple": _safe_namedtuple},
}
#: why each wrapper exists (for the README table and the review)
WRAPPED_WHY = {
    "functools.update_wrapper": "reads and writes attributes named by `assigned`/`updated` (`__globals__`, "
                                "`__code__`): default names only, from and onto the code's own functions",
    "functools.wraps": "the same, through update_wrapper",
    "functools.total_ordering": "writes methods onto the class it is given: the code's own classes only",
    "operator.attrgetter": "getattr with caller-chosen (dotted) names: each step through the guard",
    "operator.methodcaller": "getattr with a caller-chosen name: through the guard",
    "operator.setitem": "item writes outside `_write_`: through the write guard",
    "operator.delitem": "the same",
    "operator.getitem": "item reads outside `_getitem_`: through the read guard",
    "collections.namedtuple": "names go through str() and an eval'd template: exact-str copies; module= ignored",
}


class ModuleFacade:
    """Read-only stand-in for a module: public functions, classes and constants only."""

    __slots__ = ("_facade_name", "_facade_members", "_facade_hidden")

    def __init__(self, name: str, members: dict[str, Any], hidden: frozenset[str]) -> None:
        object.__setattr__(self, "_facade_name", name)
        object.__setattr__(self, "_facade_members", types.MappingProxyType(dict(members)))
        object.__setattr__(self, "_facade_hidden", hidden)

    def __getattr__(self, name: str) -> Any:  # every public member is served from here
        name = exact_str(name)
        members = object.__getattribute__(self, "_facade_members")
        if not name.startswith("_") and name in members:
            return members[name]
        module = object.__getattribute__(self, "_facade_name")
        if name in object.__getattribute__(self, "_facade_hidden"):
            raise GuardViolation(f"{module}.{name} is not available in the sandbox (module facades carry only "
                                 "public functions, classes and constants)")
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise GuardViolation(f"module {object.__getattribute__(self, '_facade_name')!r} is read-only in the sandbox")

    def __delattr__(self, name: str) -> None:
        raise GuardViolation(f"module {object.__getattribute__(self, '_facade_name')!r} is read-only in the sandbox")

    def __repr__(self) -> str:
        return f"<module {object.__getattribute__(self, '_facade_name')!r} (sandbox facade)>"


_IMMUTABLE_CONSTANTS = (int, float, complex, str, bytes, bool, frozenset, type(None))


def _public_members(name: str, module: types.ModuleType) -> dict[str, Any]:
    names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
    dropped, wrapped = DROPPED.get(name, {}), WRAPPED.get(name, {})
    members = {}
    for member in names:
        if member.startswith("_") or member in dropped:
            continue
        value = wrapped.get(member, getattr(module, member, None))
        if isinstance(value, types.ModuleType) or value is None:
            continue
        if isinstance(value, (list, dict, set, bytearray)):
            raise AssertionError(f"{name}.{member} is a shared mutable {type(value).__name__}")  # audit: none today
        if isinstance(value, tuple):
            value = tuple(value)
        members[member] = value
    return members


_FACADES: dict[str, ModuleFacade] = {}


def module_facade(name: str) -> ModuleFacade:
    if name == "random":
        return _random_facade()  # per call: no state shared between runs
    facade = _FACADES.get(name)
    if facade is None:
        module = importlib.import_module(name)
        members = _public_members(name, module)
        facade = _FACADES[name] = ModuleFacade(name, members, frozenset(dir(module)) - set(members))
    return facade


_RANDOM_CALL: list[random.Random] = []  # this call's generator, made on its first `import random`


def _random_facade() -> ModuleFacade:
    """random's module functions are bound methods of one hidden generator: rebind them to this call's."""
    if not _RANDOM_CALL:
        _RANDOM_CALL.append(random.Random(os.urandom(16)))
    rng = _RANDOM_CALL[0]
    hidden = getattr(random, "_inst", None)
    members = _public_members("random", random)
    for name, value in list(members.items()):
        if getattr(value, "__self__", None) is hidden:  # Python methods and C ones (random, getrandbits)
            members[name] = getattr(rng, name)
    return ModuleFacade("random", members, frozenset(dir(random)) - set(members))


# --- per-call process state ------------------------------------------------------

_SHARED_CONTEXTS = ("DefaultContext", "BasicContext", "ExtendedContext")
_CONTEXT_FIELDS = ("prec", "rounding", "Emin", "Emax", "capitals", "clamp")
#: which process-wide state importing a module lets a call reach (directly or through the stdlib)
_REACHES = {"decimal": {"decimal"}, "fractions": {"decimal"}, "statistics": {"decimal", "random"},
            "random": {"random"}, "re": {"re"}, "string": {"re"}, "datetime": {"strptime"}}
_TOUCHED: set[str] = {"decimal", "random", "re", "strptime"}  # the first call resets everything


def touch_module(name: str) -> None:
    """Note that this call imported ``name``: the next call resets the state it reaches."""
    _TOUCHED.update(_REACHES.get(name, ()))


def _context_snapshot(ctx: decimal.Context) -> tuple[dict[str, Any], dict[Any, bool]]:
    return {f: getattr(ctx, f) for f in _CONTEXT_FIELDS}, {sig: bool(on) for sig, on in ctx.traps.items()}


_PRISTINE = {name: _context_snapshot(getattr(decimal, name)) for name in _SHARED_CONTEXTS}
_FLAG_MEMBERS = frozenset(re.RegexFlag._value2member_map_)


def reset_call_state() -> None:
    """Undo what an earlier call may have changed in process-wide stdlib state.

    In a per-call process this finds nothing to do; a per-node worker (or a host
    without the OS wall) relies on it.
    """
    if "decimal" in _TOUCHED:
        for name, pristine in _PRISTINE.items():
            ctx = getattr(decimal, name)
            fields, traps = pristine
            for field, value in fields.items():
                setattr(ctx, field, value)
            ctx.traps = dict(traps)
            ctx.clear_flags()
    decimal.setcontext(decimal.Context())  # built from the (restored) DefaultContext
    if "random" in _TOUCHED:  # statistics.NormalDist.samples() draws from the hidden generator
        random.seed(os.urandom(16))
    if "re" in _TOUCHED:  # caches keyed by strings a str subclass can lie about
        re.purge()
        for value in [v for v in re.RegexFlag._value2member_map_ if v not in _FLAG_MEMBERS]:
            del re.RegexFlag._value2member_map_[value]
    if "strptime" in _TOUCHED:
        import _strptime
        _strptime._regex_cache.clear()
    _TOUCHED.clear()
    _RANDOM_CALL.clear()


def warm_up(allowed: frozenset[str]) -> None:
    """Import and build every facade (and what C code imports lazily) before the walls go up."""
    import datetime
    import time  # noqa: F401 - datetime.strftime imports it from C
    datetime.datetime.strptime("2000", "%Y")  # imports _strptime and builds its caches
    datetime.date(2000, 1, 1).strftime("%Y")
    for name in sorted(allowed):  # every importable module, whatever this policy allows: stdlib code
        module_facade(name)       # imports some of them lazily, and the filesystem is gone afterwards
    reset_call_state()
