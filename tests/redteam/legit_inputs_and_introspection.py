# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_inputs_and_introspection
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @inputs: {"items": [1, "2.5", "x", 4.0, true], "timeout": 12}
# @expected_output: {"callable": [true, true, true, false], "count_in": 6, "has": [true, false, true], "kinds": ["bool", "float", "int", "str"], "missing": false, "names": ["normalise", "Config", "Config"], "timeout": 12, "total": 14.5, "values": [1.0, 2.5, null, 4.0, null, 7.0]}
# @source: over-blocking probe
# Attempt: everyday introspection on inputs and own objects: getattr/hasattr with defaults,
#   isinstance with tuples, callable, func.__name__, mutating a copy of inputs
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

class Config:
    retries = 3

    def __init__(self, **options):
        for key, value in options.items():
            if key == "timeout":
                self.timeout = value


def normalise(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and value.strip().replace(".", "", 1).isdigit():
        return float(value)
    return None


def run(inputs):
    items = inputs["items"]
    items.append("7")
    cfg = Config(timeout=inputs.get("timeout", 30))
    values = [normalise(v) for v in items]
    helpers = [normalise, len, Config]
    return {
        "values": values,
        "total": sum(v for v in values if v is not None),
        "timeout": getattr(cfg, "timeout", None),
        "missing": getattr(cfg, "verbose", False),
        "has": [hasattr(cfg, "retries"), hasattr(cfg, "colour"), hasattr(items, "append")],
        "callable": [callable(h) for h in helpers] + [callable(cfg)],
        "names": [normalise.__name__, type(cfg).__name__, Config.__name__],
        "kinds": sorted({type(v).__name__ for v in inputs["items"]}),
        "count_in": len(inputs["items"]),
    }
