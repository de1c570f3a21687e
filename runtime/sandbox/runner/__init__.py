"""The sandbox runner: everything that runs inside the sandbox, and nothing else.

This package imports only the standard library and RestrictedPython (never
the rest of sgde), so the Docker image carries it as ``sgde_runner`` and the
restricted backend starts it without importing pydantic or the executor.
"""
