# @id: os_socket_connect
# @category: os_effect
# @expect: any
# @layer: os
# @raw_safe: no
# @source: net exfiltration (shared corpus net_*), here against listeners the test holds on the host
# Attempt: connect to the test's TCP listener on 127.0.0.1 and to its unix socket; UDP sendto.
# Safe sandbox must: no connection ever reaches the host's listeners.

import socket


def run(inputs):
    seen = {}
    for name, family, kind, address in [
        ("tcp", socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", inputs["port"])),
        ("unix", socket.AF_UNIX, socket.SOCK_STREAM, inputs["unix_socket"]),
    ]:
        try:
            s = socket.socket(family, kind)
            s.settimeout(1)
            s.connect(address)
            s.sendall(inputs["token"].encode())
            seen[name] = "connected"
        except BaseException as exc:  # noqa: BLE001
            seen[name] = type(exc).__name__
    try:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.sendto(inputs["token"].encode(), ("127.0.0.1", inputs["port"]))
        seen["udp"] = "sent"
    except BaseException as exc:  # noqa: BLE001
        seen["udp"] = type(exc).__name__
    return {"seen": seen}
