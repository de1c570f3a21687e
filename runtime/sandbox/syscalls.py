"""The system calls sandboxed code may make, as seccomp programs and as a Docker profile.

Two filters, stacked:

- ``runner``: loaded by every runner process before it reads node code. An
  allow-list of what CPython needs to compute and to talk over its pipes;
  everything else fails with EPERM, and the calls that only an escape would
  make (exec, sockets, ptrace, mount, namespaces, kernel modules, io_uring,
  bpf, ...) kill the process outright.
- ``call``: loaded on top by each call's process (and by a per-node worker):
  no new processes (fork, vfork, clone without CLONE_THREAD; clone3 reports
  ENOSYS so glibc falls back to clone for threads), no signals to anyone.

The programs are built here, on the host, by libseccomp (through pyseccomp,
a ctypes binding that loads the system's libseccomp.so.2: no compiler, no
wheel, and libseccomp handles each architecture's quirks such as the x32 ABI
on x86_64). The runner receives raw BPF and installs it with one prctl, so
it needs neither libseccomp nor pyseccomp, inside a container included.

`docker_profile()` renders the runner list as a Docker seccomp profile
(``sandbox_images/seccomp.json``, passed with ``--security-opt seccomp=``);
it also allows ``execve`` because the container's runtime execs the runner
after loading it; the runner's own filter then forbids it again.
"""

from __future__ import annotations

import errno
import functools
import json
import tempfile
from typing import Any

#: what CPython needs to compute, allocate, wait and talk over inherited pipes
ALLOWED = (
    "read", "write", "readv", "writev", "pread64", "close", "close_range", "fstat", "newfstatat", "statx",
    "lseek", "fcntl", "dup", "dup2", "dup3", "pipe", "pipe2", "openat", "open", "access", "faccessat",
    "faccessat2", "readlink", "readlinkat", "getdents64", "getcwd", "chdir", "fchdir", "fstatfs",
    "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat",  # the per-call scratch dir (Landlock decides where)
    "mmap", "munmap", "mprotect", "mremap", "brk", "madvise",
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "restart_syscall",
    "futex", "set_robust_list", "get_robust_list", "rseq", "set_tid_address", "sched_yield",
    "sched_getaffinity", "arch_prctl", "getpid", "gettid", "getppid", "getuid", "geteuid", "getgid",
    "getegid", "getgroups", "getresuid", "getresgid", "getpgrp", "getpgid", "getsid",
    "getrandom", "clock_gettime", "clock_getres", "gettimeofday", "time", "nanosleep", "clock_nanosleep",
    "select", "pselect6", "poll", "ppoll", "exit", "exit_group", "getrusage", "getrlimit", "setrlimit",
    "uname", "sysinfo", "times", "setitimer", "getitimer", "wait4", "waitid", "kill", "tgkill", "tkill",
    "seccomp", "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
)
#: calls only an escape attempt makes: the process is killed on the spot
KILLED = (
    "execve", "execveat", "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
    "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "pidfd_open", "pidfd_getfd",
    "pidfd_send_signal", "kcmp", "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "bpf",
    "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key", "init_module", "finit_module",
    "delete_module", "kexec_load", "kexec_file_load", "reboot", "swapon", "swapoff", "io_uring_setup",
    "io_uring_enter", "io_uring_register", "open_by_handle_at", "name_to_handle_at", "fanotify_init",
    "quotactl", "acct", "settimeofday", "clock_settime", "adjtimex", "clock_adjtime", "personality",
    "iopl", "ioperm", "modify_ldt", "uselib", "syslog", "vhangup", "move_pages", "migrate_pages",
    "mbind", "set_mempolicy", "lookup_dcookie", "mknod", "mknodat", "fsopen", "fsmount", "fspick",
    "move_mount", "open_tree", "mount_setattr",
)
#: prctl options the runner uses on itself, all of which only ever restrict it further
PRCTL_OPTIONS = {"PR_GET_DUMPABLE": 3, "PR_SET_NAME": 15, "PR_GET_NAME": 16, "PR_GET_SECCOMP": 21,
                 "PR_SET_SECCOMP": 22, "PR_CAPBSET_READ": 23, "PR_SET_NO_NEW_PRIVS": 38,
                 "PR_GET_NO_NEW_PRIVS": 39}
#: ioctl requests CPython makes on pipes and /dev/null (isatty, bytes pending, close-on-exec)
IOCTL_REQUESTS = {"TCGETS": 0x5401, "FIONREAD": 0x541B, "FIOCLEX": 0x5451, "FIONCLEX": 0x5450}

CLONE_THREAD = 0x00010000
#: every namespace flag clone() accepts: the runner never creates namespaces after its set-up
CLONE_NAMESPACES = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 \
    | 0x00000080
#: the call process: no new processes, no signals to anyone
CALL_KILLED = ("fork", "vfork")
CALL_DENIED = ("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")


class SeccompUnavailable(Exception):
    """libseccomp (or pyseccomp) is not on this host: the seccomp wall cannot be built."""


def _rules(flt: Any, sc: Any, names: tuple[str, ...], action: Any) -> None:  # pyseccomp is untyped
    for name in names:
        try:
            flt.add_rule(action, name)
        except (OSError, ValueError, RuntimeError):  # not a system call on this architecture
            pass


def _export(flt: Any) -> bytes:
    with tempfile.TemporaryFile() as handle:
        flt.export_bpf(handle)
        handle.seek(0)
        return handle.read()


@functools.lru_cache(maxsize=1)
def seccomp_programs() -> tuple[bytes, bytes]:
    """(runner filter, call filter) as raw BPF for this host's architecture."""
    try:
        import pyseccomp as sc
    except Exception as exc:  # ImportError, or OSError/AttributeError when libseccomp.so.2 is missing
        raise SeccompUnavailable(f"libseccomp is not available ({type(exc).__name__}: {exc})") from None
    runner = sc.SyscallFilter(defaction=sc.ERRNO(errno.EPERM))
    runner.set_attr(sc.Attr.ACT_BADARCH, sc.KILL_PROCESS)
    _rules(runner, sc, ALLOWED, sc.ALLOW)
    _rules(runner, sc, KILLED, sc.KILL_PROCESS)
    for option in PRCTL_OPTIONS.values():
        runner.add_rule(sc.ALLOW, "prctl", sc.Arg(0, sc.EQ, option))
    for request in IOCTL_REQUESTS.values():
        runner.add_rule(sc.ALLOW, "ioctl", sc.Arg(1, sc.EQ, request))
    runner.add_rule(sc.ALLOW, "prlimit64", sc.Arg(0, sc.EQ, 0))  # its own limits only
    runner.add_rule(sc.ALLOW, "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_NAMESPACES, 0))
    runner.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")  # glibc then falls back to clone, which we can inspect

    call = sc.SyscallFilter(defaction=sc.ALLOW)  # stacked on the runner filter, which still applies
    call.set_attr(sc.Attr.ACT_BADARCH, sc.KILL_PROCESS)
    _rules(call, sc, CALL_KILLED, sc.KILL_PROCESS)
    _rules(call, sc, CALL_DENIED, sc.ERRNO(errno.EPERM))
    call.add_rule(sc.KILL_PROCESS, "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_THREAD, 0))
    return _export(runner), _export(call)


def available() -> tuple[bool, str]:
    try:
        seccomp_programs()
    except SeccompUnavailable as exc:
        return False, str(exc)
    return True, "libseccomp"


def docker_profile() -> dict[str, Any]:
    """The runner filter as a Docker seccomp profile (narrower than Docker's default)."""
    # Docker ORs separate entries and ANDs the args within one: one entry per allowed argument value
    syscalls: list[dict[str, Any]] = [
        {"names": sorted(set(ALLOWED) | {"execve", "capget", "capset"}), "action": "SCMP_ACT_ALLOW",
         "comment": "CPython computing over its pipes; execve/capget/capset for the runtime's exec of the runner"},
    ]
    # PR_SET_DUMPABLE (4): the runner makes itself undumpable before it loads its own filter
    syscalls += [{"names": ["prctl"], "action": "SCMP_ACT_ALLOW",
                  "args": [{"index": 0, "value": v, "op": "SCMP_CMP_EQ"}]}
                 for v in sorted({4, *PRCTL_OPTIONS.values()})]
    syscalls += [{"names": ["ioctl"], "action": "SCMP_ACT_ALLOW",
                  "args": [{"index": 1, "value": v, "op": "SCMP_CMP_EQ"}]} for v in sorted(IOCTL_REQUESTS.values())]
    syscalls += [
        {"names": ["prlimit64"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},
        {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": CLONE_NAMESPACES, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
        {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.ENOSYS},
    ]
    return {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": errno.EPERM,
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"], "syscalls": syscalls}


def docker_profile_json() -> str:
    return json.dumps(docker_profile(), indent=1, sort_keys=True) + "\n"
