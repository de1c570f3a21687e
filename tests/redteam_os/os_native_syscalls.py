# @id: os_native_syscalls
# @category: os_effect
# @expect: any
# @layer: os
# @raw_safe: no
# @source: what native code (ctypes, or a CPython memory-corruption bug) could ask the kernel for directly
# Attempt: through libc: socket(), execve(), ptrace(PTRACE_ATTACH) of the host, setuid(0), unshare(), mount(),
#   memfd_create(), io_uring_setup(), chroot().
# Safe sandbox must: every one refused or the process killed; the host sees nothing.
#   (`only` in the inputs tries one call, so a kill on the first does not hide the others.)

import ctypes
import platform


def run(inputs):
    libc = ctypes.CDLL(None, use_errno=True)
    numbers = {"x86_64": {"socket": 41, "execve": 59, "ptrace": 101, "setuid": 105, "unshare": 272,
                          "mount": 165, "memfd_create": 319, "io_uring_setup": 425, "chroot": 161},
               "aarch64": {"socket": 198, "execve": 221, "ptrace": 117, "setuid": 146, "unshare": 97,
                           "mount": 40, "memfd_create": 279, "io_uring_setup": 425, "chroot": 51}}[platform.machine()]
    seen = {}
    args = {"socket": (2, 1, 0), "execve": (ctypes.c_char_p(b"/bin/sh"), None, None),
            "ptrace": (16, inputs["host_pid"], 0, 0), "setuid": (0,), "unshare": (0x10000000,),
            "mount": (None, ctypes.c_char_p(b"/"), None, 0, None), "memfd_create": (ctypes.c_char_p(b"x"), 0),
            "io_uring_setup": (8, None), "chroot": (ctypes.c_char_p(b"/"),)}
    names = ("setuid", "unshare", "mount", "memfd_create", "io_uring_setup", "chroot", "ptrace", "socket", "execve")
    for name in [inputs["only"]] if inputs.get("only") else names:  # the test also tries each on its own
        result = libc.syscall(numbers[name], *args[name])
        seen[name] = [result, ctypes.get_errno()]
    return {"seen": seen}
