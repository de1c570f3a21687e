"""The operating-system wall around the runner: namespaces, an unprivileged uid,
an empty read-only root, no capabilities, no_new_privs, Landlock and seccomp.

Everything here runs inside the runner before it reads any node code, and
every wall is applied from outside the interpreter's reach: once in force, no
Python code (nor native code it might smuggle in) can lift it. Each step is
attempted on its own and reported, so `sgde sandbox doctor` can say which
walls a host has and a policy can require the ones it needs.

Python 3.11 has no bindings for unshare/mount/pivot_root/landlock/prctl, so
they are called through ctypes on libc; the seccomp program itself is built
on the host by libseccomp and arrives here as raw BPF (see
``sgde.runtime.sandbox.syscalls``).
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

_LIBC = ctypes.CDLL(None, use_errno=True)

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_SECCOMP = 22
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
SECCOMP_MODE_FILTER = 2

_SYSCALLS = {  # the few numbers libc has no wrapper for; landlock's are the same on every architecture
    "x86_64": {"pivot_root": 155, "landlock_create_ruleset": 444, "landlock_add_rule": 445,
               "landlock_restrict_self": 446},
    "aarch64": {"pivot_root": 41, "landlock_create_ruleset": 444, "landlock_add_rule": 445,
                "landlock_restrict_self": 446},
}.get(platform.machine(), {})

# Landlock (linux/landlock.h)
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
_FS_ACCESS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1, 5: (1 << 16) - 1}
FS_READ = (1 << 2) | (1 << 3)            # READ_FILE | READ_DIR
# write, remove, mkdir, mkreg, truncate
FS_WRITE_TREE = ((1 << 1) | (1 << 4) | (1 << 5) | (1 << 7) | (1 << 8) | (1 << 14))
_NET_ALL = (1 << 0) | (1 << 1)           # BIND_TCP | CONNECT_TCP (ABI 4)
_SCOPE_ALL = (1 << 0) | (1 << 1)         # ABSTRACT_UNIX_SOCKET | SIGNAL (ABI 6)


class WallError(Exception):
    """A wall that was asked for could not be put up."""


def _check(result: int, what: str) -> int:
    if result == -1:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return result


def _syscall(name: str, *args: Any) -> int:  # ctypes arguments: bytes, None, c_* values
    number = _SYSCALLS.get(name)
    if number is None:
        raise OSError(errno.ENOSYS, f"{name}: unknown on {platform.machine()}")
    return _check(_LIBC.syscall(ctypes.c_long(number), *args), name)


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    return _check(_LIBC.prctl(option, ctypes.c_ulong(arg2), ctypes.c_ulong(arg3), ctypes.c_ulong(arg4),
                              ctypes.c_ulong(arg5)), "prctl")


def unshare(flags: int) -> None:
    _check(_LIBC.unshare(flags), "unshare")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc: Callable[[str | None], bytes | None] = lambda s: None if s is None else s.encode()  # noqa: E731
    _check(_LIBC.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}")


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


# --- the steps ---------------------------------------------------------------

def drop_to_user(uid: int, gid: int) -> None:
    """Root only: become uid/gid with no supplementary groups (clears every capability)."""
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)


def enter_namespaces(use_userns: bool) -> dict[str, bool]:
    """unshare mount, network, IPC, UTS, PID and cgroup namespaces (and a user namespace when not root).

    The caller must fork afterwards: the PID namespace takes effect for children only.
    """
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWCGROUP
    uid, gid = os.geteuid(), os.getegid()
    unshare(flags | (CLONE_NEWUSER if use_userns else 0))
    if use_userns:  # map our own ids, nothing else: no other uid exists in here
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    return {"userns": use_userns, "mountns": True, "netns": True, "ipcns": True, "utsns": True, "pidns": True}


def empty_root() -> None:
    """Replace the filesystem view by an empty, read-only tmpfs: nothing to read, nothing to write.

    The runner imported everything it needs before this point; the host's files,
    /proc and /dev are simply not there any more.
    """
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    mount("sgde-sandbox", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=16k,mode=0755")
    os.mkdir("/tmp/old")
    _syscall("pivot_root", b"/tmp", b"/tmp/old")
    os.chdir("/")
    _check(_LIBC.umount2(b"/old", MNT_DETACH), "umount /old")
    os.rmdir("/old")
    mount(None, "/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)


def drop_bounding_set() -> None:
    """Empty the bounding and ambient sets (needs CAP_SETPCAP: do it before giving up root)."""
    for cap in range(64):
        try:
            prctl(PR_CAPBSET_DROP, cap)
        except OSError as exc:
            if exc.errno == errno.EINVAL:  # past the kernel's last capability
                break
            raise
    try:
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    except OSError:
        pass


def clear_capabilities() -> None:
    """Empty the effective, permitted and inheritable sets."""
    header = struct.pack("=Ii", 0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    hdr_buf, data_buf = ctypes.create_string_buffer(header, len(header)), ctypes.create_string_buffer(24)
    _check(_LIBC.capset(hdr_buf, data_buf), "capset")


def capabilities_empty() -> bool:
    header = ctypes.create_string_buffer(struct.pack("=Ii", 0x20080522, 0), 8)
    data = ctypes.create_string_buffer(24)
    if _LIBC.capget(header, data) != 0:
        return False
    return not any(data.raw)


def no_new_privs() -> None:
    prctl(PR_SET_NO_NEW_PRIVS, 1)


def not_dumpable() -> None:
    """No same-uid process may ptrace this one or open its /proc files (fds, memory)."""
    prctl(PR_SET_DUMPABLE, 0)


def landlock_abi() -> int:
    try:
        return _syscall("landlock_create_ruleset", None, ctypes.c_size_t(0),
                        ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION))
    except OSError:
        return 0


def landlock(abi: int, writable: tuple[str, ...] = (), readable: tuple[str, ...] = ()) -> None:
    """Restrict this process (and its children) to the given paths; everything else is denied.

    Also denies TCP bind/connect (ABI 4+) and, from ABI 6, signals and abstract
    unix sockets that reach outside the domain.
    """
    handled_fs = _FS_ACCESS_BY_ABI.get(min(abi, 5), 0)
    if abi >= 6:
        attr = struct.pack("=QQQ", handled_fs, _NET_ALL, _SCOPE_ALL)
    elif abi >= 4:
        attr = struct.pack("=QQ", handled_fs, _NET_ALL)
    else:
        attr = struct.pack("=Q", handled_fs)
    buf = ctypes.create_string_buffer(attr, len(attr))
    ruleset = _syscall("landlock_create_ruleset", buf, ctypes.c_size_t(len(attr)), ctypes.c_uint32(0))
    try:
        for paths, access in ((readable, FS_READ), (writable, FS_READ | FS_WRITE_TREE)):
            for path in paths:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                try:
                    rule = struct.pack("=Qi", access & handled_fs, fd)
                    rule_buf = ctypes.create_string_buffer(rule, len(rule))
                    _syscall("landlock_add_rule", ctypes.c_int(ruleset), ctypes.c_int(LANDLOCK_RULE_PATH_BENEATH),
                             rule_buf, ctypes.c_uint32(0))
                finally:
                    os.close(fd)
        _syscall("landlock_restrict_self", ctypes.c_int(ruleset), ctypes.c_uint32(0))
    finally:
        os.close(ruleset)


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


class SeccompProgram:
    """A BPF program built by the host (libseccomp), ready to load with one prctl."""

    def __init__(self, bpf: bytes) -> None:
        if not bpf or len(bpf) % ctypes.sizeof(_SockFilter):
            raise WallError("the seccomp program is empty or malformed")
        count = len(bpf) // ctypes.sizeof(_SockFilter)
        self._filters = (_SockFilter * count).from_buffer_copy(bpf)
        self._prog = _SockFprog(count, ctypes.cast(self._filters, ctypes.POINTER(_SockFilter)))

    def load(self) -> None:
        """Install on this thread (before any other thread exists); stacks on earlier filters."""
        _check(_LIBC.prctl(PR_SET_SECCOMP, ctypes.c_ulong(SECCOMP_MODE_FILTER), ctypes.byref(self._prog),
                           ctypes.c_ulong(0), ctypes.c_ulong(0)), "seccomp")


def close_fds_except(keep: set[int]) -> None:
    """Close every inherited descriptor but ``keep`` (and 0-2, which the caller points at /dev/null)."""
    for name in os.listdir("/proc/self/fd") if os.path.isdir("/proc/self/fd") else []:
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass
