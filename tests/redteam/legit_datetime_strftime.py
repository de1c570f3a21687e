# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_datetime_strftime
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"combined": "2024-03-09T08:00:00", "date_strftime": "09/03/2024", "day_of_year": "366", "format_builtin": "23:05", "fstring": "2024-03-09", "fstring_dt": "Dec 31, 2024 11:05 PM", "iso": "2024-03-09", "strftime": "2024-12-31 23:05:09", "time_iso": "07:30:00", "weekday_name": "Saturday"}
# @source: over-blocking probe
# Attempt: datetime formatting: strftime, date.strftime, f-string date specs, isoformat
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

from datetime import date, datetime, time


def run(inputs):
    d = date(2024, 3, 9)
    dt = datetime(2024, 12, 31, 23, 5, 9)
    return {
        "iso": d.isoformat(),
        "strftime": dt.strftime("%Y-%m-%d %H:%M:%S"),
        "date_strftime": d.strftime("%d/%m/%Y"),
        "fstring": f"{d:%Y-%m-%d}",
        "fstring_dt": f"{dt:%b %d, %Y %I:%M %p}",
        "weekday_name": d.strftime("%A"),
        "day_of_year": dt.strftime("%j"),
        "format_builtin": format(dt, "%H:%M"),
        "time_iso": time(7, 30).isoformat(),
        "combined": datetime.combine(d, time(8, 0)).isoformat(),
    }
