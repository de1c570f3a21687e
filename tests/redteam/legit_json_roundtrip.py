# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_json_roundtrip
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"ascii_off": "\"caf\u00e9\"", "compact": "{\"a\":\"text\",\"b\":[1,2,{\"a\":true,\"z\":null}],\"n\":1.5}", "loaded": {"item": {"cents": 1250, "dollars": 12.5}, "list": [1, 2.5, "x"]}, "pretty": "{\n  \"a\": \"text\",\n  \"b\": [\n    1,\n    2,\n    {\n      \"a\": true,\n      \"z\": null\n    }\n  ],\n  \"n\": 1.5\n}", "roundtrip": true, "unicode": "\"caf\\u00e9\""}
# @source: over-blocking probe
# Attempt: json: dumps with sort_keys/indent/separators, loads with object_hook
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

import json


def tag_money(obj):
    if "cents" in obj:
        obj["dollars"] = obj["cents"] / 100
    return obj


def run(inputs):
    data = {"b": [1, 2, {"z": None, "a": True}], "a": "text", "n": 1.5}
    pretty = json.dumps(data, sort_keys=True, indent=2)
    compact = json.dumps(data, separators=(",", ":"), sort_keys=True)
    loaded = json.loads('{"item": {"cents": 1250}, "list": [1, 2.5, "x"]}', object_hook=tag_money)
    return {"pretty": pretty, "compact": compact, "loaded": loaded,
            "unicode": json.dumps("caf\u00e9"), "ascii_off": json.dumps("caf\u00e9", ensure_ascii=False),
            "roundtrip": json.loads(compact) == data}
