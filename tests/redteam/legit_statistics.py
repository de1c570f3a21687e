# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_statistics
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"cdf": 0.97725, "fmean": 2.5, "harmonic": 48.0, "inv_cdf": 129.3995, "mean": 5, "median": 3.5, "median_low": 3, "mode": 4, "multimode": ["b"], "overlap": 0.617075, "pstdev": 2.0, "quantiles": [4.0, 4.5, 6.5], "stdev": 2.13809, "variance": 4.571429, "z": 1.0}
# @source: over-blocking probe
# Attempt: statistics: mean, median, stdev, quantiles, NormalDist
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

import statistics
from statistics import NormalDist


def run(inputs):
    data = [2, 4, 4, 4, 5, 5, 7, 9]
    iq = NormalDist(100, 15)
    return {
        "mean": statistics.mean(data),
        "fmean": statistics.fmean([1.5, 2.5, 3.5]),
        "median": statistics.median([3, 1, 4, 1, 5, 9]),
        "median_low": statistics.median_low([1, 3, 5, 7]),
        "mode": statistics.mode(data),
        "multimode": statistics.multimode("aabbbcc dd"),
        "pstdev": statistics.pstdev(data),
        "stdev": round(statistics.stdev(data), 6),
        "variance": round(statistics.variance(data), 6),
        "harmonic": round(statistics.harmonic_mean([40, 60]), 6),
        "quantiles": statistics.quantiles(data, n=4),
        "cdf": round(iq.cdf(130), 6),
        "inv_cdf": round(iq.inv_cdf(0.975), 4),
        "overlap": round(NormalDist(0, 1).overlap(NormalDist(1, 1)), 6),
        "z": iq.zscore(115),
    }
