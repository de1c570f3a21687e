# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_match_literal_sequence_mapping
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"results": ["bye", "going north", "picking 2", "unknown", "move to 1,2", "jump with ['height', 'speed']", "negative", "zero", "number", "pair l/r", "unknown"]}
# @source: over-blocking probe
# Attempt: match statements: literals, sequences, mappings, guards, or-patterns, case _
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

def classify(command):
    match command:
        case "quit" | "exit":
            return "bye"
        case ["go", direction]:
            return f"going {direction}"
        case ["pick", *items] if items:
            return f"picking {len(items)}"
        case {"action": "move", "x": int(x), "y": int(y)}:
            return f"move to {x},{y}"
        case {"action": action, **rest}:
            return f"{action} with {sorted(rest)}"
        case int(n) if n < 0:
            return "negative"
        case 0:
            return "zero"
        case float() | int():
            return "number"
        case (a, b):
            return f"pair {a}/{b}"
        case _:
            return "unknown"


def run(inputs):
    cases = ["quit", ["go", "north"], ["pick", "a", "b"], ["pick"], {"action": "move", "x": 1, "y": 2},
             {"action": "jump", "height": 3, "speed": 1}, -5, 0, 2.5, ("l", "r"), None]
    return {"results": [classify(c) for c in cases]}
