"""Calls that cannot touch each other, a channel the host can trust, a host no reply can crash (issue #12).

Each scenario is a sequence through ONE backend instance, as `sgde run --input-file` makes it: an attacker
call, then a victim call with a secret input, then (where it matters) a second attacker call that looks for
what the victim left behind. The victim must answer exactly as it does alone; the attacker gets a typed
error or gets nothing; the next call works. Both backends, with the language guard on and with the
test-only switch that turns it off (plain exec: what a guard escape would give).
"""

from __future__ import annotations

import json
import textwrap
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sgde.runtime.errors import CompileRefused, InvalidOutput, OutputTooLarge, ProtocolViolation, SandboxError
from sgde.runtime.policy import load_policy
from sgde.runtime.sandbox import protocol
from sgde.runtime.sandbox.docker_backend import DockerBackend
from sgde.runtime.sandbox.restricted import RestrictedBackend

POLICY = load_policy("default").model_copy(update={
    "name": "isolation", "cpu_seconds": 1.0, "wall_seconds": 4.0, "memory_mb": 256, "output_bytes": 65536,
    "tmpfs_mb": 4})
SECRET = "victim-token-123"
VICTIM = "def run(inputs):\n    return {'echo': inputs['secret'], 'n': sum(range(10))}\n"
VICTIM_ALONE = {"echo": SECRET, "n": 45}

#: helpers an unguarded attacker uses to find its own reply pipe and request id in the runner's frames
_FIND = textwrap.dedent('''
    import os, sys, json, struct, gc

    def _runner_locals(name):
        frame = sys._getframe()
        while frame is not None:
            if name in frame.f_locals:
                return frame.f_locals[name]
            frame = frame.f_back
        return None

    def _frame(body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + body
''')

ATTACKS = {
    # a call patches the runner's request handler and json.loads; later calls would get forged results
    "handler_patch": _FIND + textwrap.dedent('''
        def run(inputs):
            stolen = []
            for name, module in list(sys.modules.items()):
                if hasattr(module, "CallRunner"):
                    def forged(self, request_id, op, payload, code=None, stolen=stolen):
                        stolen.append(payload.get("inputs"))
                        return {"id": request_id, "ok": True, "output": {"forged": True, "answer": 666,
                                "stolen": stolen}, "stdout": "", "stdout_truncated": False}
                    module.CallRunner.run = forged
            json.loads = lambda *a, **k: {"secret": "forged"}
            return {"patched": True}
    '''),
    # a call plants a collector (a builtin, a file in its scratch and in /tmp) for later calls' inputs
    "stolen_inputs": _FIND + textwrap.dedent('''
        import builtins
        def run(inputs):
            builtins.loot = []
            for path in ("loot.txt", "/tmp/loot.txt"):
                try:
                    with open(path, "w") as fh:
                        fh.write("planted")
                except OSError:
                    pass
            return {"planted": True}
    '''),
    # a call leaves a thread spinning in C (no GIL release) so the next call runs out of CPU
    "leftover_thread": _FIND + textwrap.dedent('''
        import threading, re
        def run(inputs):
            threading.Thread(target=lambda: re.match("(a+)+$", "a" * 64 + "b"), daemon=True).start()
            return {"left": True}
    '''),
    # two extra frames after its own reply: an unchecked channel shifts every later reply by one call
    "extra_frames": _FIND + textwrap.dedent('''
        def run(inputs):
            fd, request_id = _runner_locals("reply_w"), _runner_locals("envelope")["id"]
            for forged_id in (request_id, "someone-else"):
                body = json.dumps({"id": forged_id, "ok": True, "output": {"forged": True, "answer": 666},
                                   "stdout": "", "stdout_truncated": False}).encode()
                os.write(fd, _frame(body))
            return {"extra": True}
    '''),
}

#: raw reply frames a compromised call writes instead of its reply, and the typed error each must give
FORGED = {
    "huge_int": (b'{"id": "%s", "ok": true, "output": {"n": ' + b"9" * 5000 + b"}}", InvalidOutput),
    "deep_nesting": (b'{"id": "%s", "ok": true, "output": {"n": ' + b"[" * 200000 + b"]" * 200000 + b"}}",
                     InvalidOutput),
    "bad_utf8": (b'{"id": "%s", "ok": true, "output": {"n": "\xff\xfe"}}', InvalidOutput),
    "infinity": (b'{"id": "%s", "ok": true, "output": {"n": Infinity}}', InvalidOutput),
    "wrong_id": (b'{"id": "not-%s", "ok": true, "output": {"n": 1}}', ProtocolViolation),
    "wrong_shape": (b'{"id": "%s", "ok": true, "output": [1, 2]}', ProtocolViolation),
    "unhashable_limit": (b'{"id": "%s", "ok": false, "error": {"type": "node_raised", "message": "x", "limit": []}}',
                         ProtocolViolation),
    "impossible_cpu": (b'{"id": "%s", "ok": true, "output": {}, "cpu_s": 1e300}', ProtocolViolation),
    "object_value": (b'{"id": "%s", "ok": false, "error": {"type": "timeout", "message": "x", "value": {"a": 1}}}',
                     ProtocolViolation),
}


def _forger(body: bytes) -> str:
    return _FIND + textwrap.dedent(f'''
        def run(inputs):
            fd, request_id = _runner_locals("reply_w"), _runner_locals("envelope")["id"]
            os.write(fd, _frame({body!r}.replace(b"%s", request_id.encode())))
            os._exit(0)
    ''')


#: what an attacker's second call does to find what the victim left behind (the needle is assembled at run
#: time: the call's own source and request, which its process holds, must not contain it)
LOOK_FOR_VICTIM = _FIND + textwrap.dedent('''
    import builtins
    def run(inputs):
        needle = "".join(["vic", "tim-tok", "en-123"])
        found = []
        loot = getattr(builtins, "loot", None)
        if loot:
            found.append(f"builtins.loot={loot}")
        for path in ("loot.txt", "/tmp/loot.txt"):
            if os.path.exists(path):
                found.append(f"file {path}")
        for obj in gc.get_objects():  # every live object in this process, the zygote's buffers included
            if type(obj).__name__ == "Zygote":
                for name in ("inbuf", "outbuf"):
                    if needle.encode() in bytes(getattr(obj, name)[:]):
                        found.append(f"zygote {name}")
            items = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple)) else ()
            for item in items:
                if isinstance(item, str) and needle in item or isinstance(item, bytes) and needle.encode() in item:
                    found.append(f"{type(obj).__name__} holding the victim's input")
        try:
            scratch = sorted(os.listdir("."))
        except OSError:  # the restricted backend gives a call no filesystem at all
            scratch = []
        return {"found": found, "scratch": scratch}
''')

BACKENDS = [pytest.param("restricted", id="restricted"), pytest.param("docker", id="docker", marks=pytest.mark.docker)]
GUARDS = [pytest.param(True, id="guard-on"), pytest.param(False, id="guard-off")]


@pytest.fixture
def sandbox(request):
    name, guard_on = request.param
    if name == "docker":
        request.getfixturevalue("docker_image")
    disable = set() if guard_on else {"language_guard"}
    backend = DockerBackend(testing_disable=disable) if name == "docker" else RestrictedBackend(testing_disable=disable)
    yield backend
    backend.close()


def _policy(backend):
    return POLICY.model_copy(update={"backend": backend.name})


def _victim_answers_alone(backend, node: str) -> None:
    assert backend.run(VICTIM, {"secret": SECRET}, _policy(backend), node=node).output == VICTIM_ALONE


def _attack(backend, source: str, node: str):
    try:
        return backend.run(source, {}, _policy(backend), node=node).output
    except SandboxError as exc:
        return exc


PARAMS = [pytest.param((b.values[0], g.values[0]), id=f"{b.id}-{g.id}", marks=b.marks) for b in BACKENDS
          for g in GUARDS]


@pytest.mark.parametrize("sandbox", PARAMS, indirect=True)
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_an_attacker_call_cannot_reach_the_next_call(sandbox, attack):
    first = _attack(sandbox, ATTACKS[attack], node="shared")
    if sandbox.testing_disable:  # unguarded: the attack itself ran
        assert isinstance(first, (dict, SandboxError)), first
    else:
        assert isinstance(first, SandboxError) and first.type_name in ("compile_refused", "policy_violation")
    _victim_answers_alone(sandbox, node="shared")
    after = _attack(sandbox, LOOK_FOR_VICTIM, node="shared")
    if sandbox.testing_disable:
        assert after == {"found": [], "scratch": []}, after
    else:
        assert isinstance(after, SandboxError) and after.type_name == "compile_refused"
    _victim_answers_alone(sandbox, node="shared")


@pytest.mark.parametrize("sandbox", PARAMS, indirect=True)
@pytest.mark.parametrize("forgery", sorted(FORGED))
def test_a_forged_reply_is_a_typed_error_and_the_victim_is_untouched(sandbox, forgery):
    body, error = FORGED[forgery]
    outcome = _attack(sandbox, _forger(body), node="forge")
    if sandbox.testing_disable:
        assert isinstance(outcome, error), outcome
        assert outcome.node == "forge"
        json.dumps(outcome.to_dict(), allow_nan=False)  # the error itself is plain JSON
    else:
        assert isinstance(outcome, SandboxError) and outcome.type_name in ("compile_refused", "policy_violation")
    _victim_answers_alone(sandbox, node="forge")


@pytest.mark.parametrize("sandbox", [p for p in PARAMS if "guard-off" in p.id], indirect=True)
def test_an_oversized_frame_is_refused_unread(sandbox):
    source = _FIND + textwrap.dedent('''
        def run(inputs):
            os.write(_runner_locals("reply_w"), struct.pack(">I", 1 << 30))
            os._exit(0)
    ''')
    assert isinstance(_attack(sandbox, source, node="big"), OutputTooLarge)
    _victim_answers_alone(sandbox, node="big")


@pytest.mark.parametrize("sandbox", [p for p in PARAMS if "guard-off" in p.id], indirect=True)
def test_every_call_gets_a_process_no_earlier_call_ran_in(sandbox):
    """Module state set by one call (a global in the runner, a builtin) is never there for the next."""
    mark = _FIND + "def run(inputs):\n    import builtins\n    seen = hasattr(builtins, 'mark')\n" \
                   "    builtins.mark = os.getpid()\n    return {'seen': seen, 'pid': os.getpid()}\n"
    first = sandbox.run(mark, {}, _policy(sandbox), node="fresh").output
    second = sandbox.run(mark, {}, _policy(sandbox), node="fresh").output
    assert first["seen"] is False and second["seen"] is False and first["pid"] != second["pid"]


@pytest.mark.parametrize("sandbox", [p for p in PARAMS if "guard-off" in p.id], indirect=True)
def test_per_node_isolation_is_warm_and_still_checks_its_channel(sandbox):
    """isolation: per_node (reviewed code) reuses one process; a runner that writes between calls is replaced."""
    warm = _policy(sandbox).model_copy(update={"isolation": "per_node"})
    mark = _FIND + "def run(inputs):\n    return {'pid': os.getpid()}\n"
    pids = {sandbox.run(mark, {}, warm, node="warm", reviewed=True).output["pid"] for _ in range(3)}
    assert len(pids) == 1
    spam = _FIND + textwrap.dedent('''
        def run(inputs):
            fd = _runner_locals("wfd")
            os.write(fd, _frame(b'{"id": "late", "ok": true, "output": {}}'))
            return {"spammed": True}
    ''')
    try:
        sandbox.run(spam, {}, warm, node="warm", reviewed=True)
    except ProtocolViolation:
        pass  # caught in the act: the extra frame arrived with the reply
    assert sandbox.run(VICTIM, {"secret": SECRET}, warm, node="warm", reviewed=True).output == VICTIM_ALONE


# --- the host's decoder, on its own ---------------------------------------------------------------

@pytest.mark.parametrize("forgery", sorted(FORGED))
def test_decoder_refuses_each_forgery(forgery):
    body, error = FORGED[forgery]
    with pytest.raises((InvalidOutput, ProtocolViolation)):
        protocol.check_reply(protocol.decode_json(body.replace(b"%s", b"abc")), "abc")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_no_bytes_crash_the_decoder(body):
    """Whatever a sandbox sends: a checked reply, or a typed SandboxError; never anything else."""
    try:
        reply = protocol.check_reply(protocol.decode_json(body), "the-id")
    except SandboxError:
        return
    json.dumps(reply, allow_nan=False)
    assert reply["id"] == "the-id"


@settings(max_examples=150, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                                max_size=3), max_leaves=15))
def test_decoded_values_are_always_plain_json(value):
    body = json.dumps({"id": "x", "ok": True, "output": {"v": value}}).encode()
    try:
        reply = protocol.check_reply(protocol.decode_json(body), "x")
    except InvalidOutput:
        return  # NaN/Infinity, or an integer past 4300 digits
    assert json.loads(json.dumps(reply, allow_nan=False)) == reply


def test_error_messages_from_a_sandbox_cannot_drive_the_terminal():
    reply = {"id": "x", "ok": False, "error": {"type": "node_raised", "message": "boom\x1b[2J\x1b]0;pwned\x07\u202e"}}
    with pytest.raises(SandboxError) as info:
        protocol.raise_for_reply(protocol.check_reply(reply, "x"), "n")
    assert "\x1b" not in info.value.message and "\u202e" not in info.value.message and "\\u001b" in info.value.message


def test_a_reply_cannot_claim_an_error_only_the_host_raises():
    reply = {"id": "x", "ok": False, "error": {"type": "wall_missing", "message": "trust me", "limit": "../etc"}}
    with pytest.raises(SandboxError) as info:
        protocol.raise_for_reply(reply, "n")
    assert info.value.type_name == "sandbox_crashed" and info.value.limit is None


@pytest.mark.parametrize("sandbox", [p for p in PARAMS if "guard-off" in p.id], indirect=True)
def test_the_attacks_are_real_where_calls_share_a_process(sandbox):
    """The control: under isolation: per_node (one warm process, for reviewed code only) the handler patch
    does forge the next call's answer, which is why code that is not reviewed never runs per_node."""
    warm = _policy(sandbox).model_copy(update={"isolation": "per_node"})
    handler_only = ATTACKS["handler_patch"].replace("json.loads = lambda *a, **k:", "_unused = lambda *a, **k:")
    sandbox.run(handler_only, {}, warm, node="control", reviewed=True)
    forged = sandbox.run(VICTIM, {"secret": SECRET}, warm, node="control", reviewed=True).output
    assert forged["forged"] is True and forged["answer"] == 666
    # the same policy, code that is not reviewed: a fresh process per call whatever the policy says
    sandbox.run(handler_only, {}, warm, node="control-unreviewed")
    assert sandbox.run(VICTIM, {"secret": SECRET}, warm, node="control-unreviewed").output == VICTIM_ALONE


@pytest.mark.parametrize("sandbox", [p for p in PARAMS if "guard-off" in p.id], indirect=True)
def test_a_call_that_dies_mid_reply_leaves_nothing_for_the_next(sandbox):
    """Half a reply carrying a secret, then death: the zygote wipes what it read on every path."""
    half = _FIND + textwrap.dedent('''
        def run(inputs):
            body = json.dumps({"id": _runner_locals("envelope")["id"], "ok": True,
                               "output": {"rows": [f"row {i} of " + inputs["secret"] for i in range(200)]}}).encode()
            os.write(_runner_locals("reply_w"), _frame(body)[:len(body) // 2])
            os._exit(0)
    ''')
    with pytest.raises(SandboxError):
        sandbox.run(half, {"secret": SECRET}, _policy(sandbox), node="half")
    assert _attack(sandbox, LOOK_FOR_VICTIM, node="half") == {"found": [], "scratch": []}


@pytest.mark.parametrize("sandbox", [p for p in PARAMS if "guard-off" in p.id], indirect=True)
def test_a_runner_that_stops_reading_cannot_hang_the_host(sandbox):
    """per_node: a call makes its worker stop reading; the next request (too big for the pipe) cannot be sent.
    The host gives up at the wall clock, replaces the worker, and the call after works."""
    warm = _policy(sandbox).model_copy(update={"isolation": "per_node", "wall_seconds": 2.0})
    stop = _FIND + textwrap.dedent('''
        def run(inputs):
            import time
            for module in list(sys.modules.values()):
                if hasattr(module, "read_message") and hasattr(module, "read_frame_into"):
                    module.read_message = lambda *a, **k: time.sleep(3600)
            return {"stopped": True}
    ''')
    sandbox.run(stop, {}, warm, node="deaf", reviewed=True)
    started = time.monotonic()
    with pytest.raises(SandboxError) as info:
        sandbox.run(VICTIM, {"secret": SECRET, "pad": "x" * 500_000}, warm, node="deaf", reviewed=True)
    assert time.monotonic() - started < warm.wall_seconds + 3 and info.value.type_name == "timeout"
    assert sandbox.run(VICTIM, {"secret": SECRET}, warm, node="deaf", reviewed=True).output == VICTIM_ALONE


@pytest.mark.docker
def test_a_scratch_tree_deeper_than_the_descriptor_limit_is_still_removed(docker_image):
    """Docker, guard off: a call nests directories past open_files and fills the scratch at the bottom."""
    with DockerBackend(testing_disable={"language_guard"}) as sandbox:
        policy = _policy(sandbox)
        deep = _FIND + textwrap.dedent('''
            def run(inputs):
                for i in range(300):
                    os.mkdir("d")
                    os.chdir("d")
                files = 0
                try:  # files of at most the policy's file_size_mb, until the scratch tmpfs is full
                    while True:
                        with open(f"fill{files}", "wb") as fh:
                            files += 1
                            fh.write(b"x" * (1 << 20))
                except OSError:
                    pass
                return {"depth": 300, "filled": files > 1}
        ''')
        assert sandbox.run(deep, {}, policy, node="deep").output == {"depth": 300, "filled": True}
        room = _FIND + textwrap.dedent('''
            def run(inputs):
                with open("mine", "wb") as fh:
                    fh.write(b"y" * (1 << 19))
                return {"wrote": os.path.getsize("mine"), "scratch": sorted(os.listdir("."))}
        ''')
        assert sandbox.run(room, {}, policy, node="deep").output == {"wrote": 1 << 19, "scratch": ["mine"]}


def test_fixed_code_the_runner_let_go_is_prepared_again():
    from sgde.runtime.sandbox.runner.execute import CACHE_ENTRIES
    with RestrictedBackend() as sandbox:
        sources = [f"def run(inputs):\n    return {{'k': {k}}}\n" for k in range(CACHE_ENTRIES + 2)]
        for k, source in enumerate(sources):
            assert sandbox.run(source, {}, POLICY, node="many", reviewed=True).output == {"k": k}
        assert sandbox.run(sources[0], {}, POLICY, node="many", reviewed=True).output == {"k": 0}


def test_caller_mistakes_are_typed_errors_not_tracebacks():
    from sgde.runtime.errors import InputError
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    with RestrictedBackend() as sandbox:
        with pytest.raises(InputError, match="inputs"):
            sandbox.run(VICTIM, {"secret": deep}, POLICY, node="caller")
        # a lone surrogate in an input, in the code's text, in what it prints and returns: typed, never a crash
        echo = "def run(inputs):\n    print(inputs['t'])\n    return {'n': len(inputs['t']), 'echo': inputs['t']}\n"
        for fixed in (False, True):
            out = sandbox.run(echo, {"t": "a\udc80"}, POLICY, node=f"surrogate-{fixed}", reviewed=fixed)
            assert out.output == {"n": 2, "echo": "a\udc80"} and out.stdout == "a\udc80\n"
            with pytest.raises(CompileRefused):
                sandbox.run("def run(inputs):\n    return {'s': '\ud800'}\n", {}, POLICY, node="lone",
                            reviewed=fixed)
        with pytest.raises(CompileRefused):
            sandbox.check("x = '\ud800'\n", POLICY, node="surrogate-check")
