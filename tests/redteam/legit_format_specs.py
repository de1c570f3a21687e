# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_format_specs
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"center": "****abc****", "comma": "1,234,567.89", "debug": "len(s)=3", "exp": "1.235e+06", "general": "1.2345e-05", "hex_bin_oct": ["ff", "0XFF", "00000101", "10"], "left": "abc   |", "percent": "45.7%", "percent_op": " 12.3% of total", "positional": "b-a-b", "repr_conv": "'abc'", "right": "       abc", "sign": "+42 -42", "thousands_int": "1,000,000,000", "underscore": "1_000_000", "width_var": "     abc", "zero_pad": "0003.142"}
# @source: over-blocking probe
# Attempt: format specs: f'{x:,.2f}', format(x, '08.3f'), '{:>10}'.format(s) and friends
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

def run(inputs):
    x = 1234567.891
    s = "abc"
    return {
        "comma": f"{x:,.2f}",
        "zero_pad": format(3.14159, "08.3f"),
        "right": "{:>10}".format(s),
        "left": "{:<6}|".format(s),
        "center": "{:*^11}".format(s),
        "sign": f"{42:+d} {-42:+d}",
        "percent": f"{0.4567:.1%}",
        "exp": f"{x:.3e}",
        "hex_bin_oct": [f"{255:x}", f"{255:#X}", f"{5:08b}", f"{8:o}"],
        "width_var": f"{s:>{8}}",
        "thousands_int": f"{10**9:,}",
        "underscore": f"{10**6:_}",
        "general": f"{0.000012345:g}",
        "percent_op": "%5.1f%% of %s" % (12.345, "total"),
        "repr_conv": f"{s!r}",
        "debug": f"{len(s)=}",
        "positional": "{1}-{0}-{1}".format("a", "b"),
    }
