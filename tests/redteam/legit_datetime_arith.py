# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_datetime_arith
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @inputs: {"start": "2024-01-31 08:15"}
# @expected_output: {"days_between": 46, "end": "2024-03-16T13:45:00", "hours": 2.25, "isoweek": [2024, 9, 5], "later_is_greater": true, "leap_feb": 29, "month_end": "2024-02-29", "seconds": 3907800.0, "weekday": 4}
# @source: over-blocking probe
# Attempt: datetime arithmetic: strptime, timedelta, fromisoformat, isocalendar, replace
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

from datetime import date, datetime, timedelta


def run(inputs):
    start = datetime.strptime(inputs["start"], "%Y-%m-%d %H:%M")
    end = start + timedelta(days=45, hours=5, minutes=30)
    d1 = date.fromisoformat("2024-01-15")
    d2 = date(2024, 3, 1)
    iso = d2.isocalendar()
    return {
        "end": end.isoformat(),
        "days_between": (d2 - d1).days,
        "seconds": (end - start).total_seconds(),
        "weekday": d2.weekday(),
        "isoweek": [iso[0], iso[1], iso[2]],
        "month_end": (d2.replace(day=1) - timedelta(days=1)).isoformat(),
        "leap_feb": (date(2024, 3, 1) - date(2024, 2, 1)).days,
        "hours": round(timedelta(minutes=135).total_seconds() / 3600, 2),
        "later_is_greater": end > start,
    }
