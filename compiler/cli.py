"""The `sgde` console script: the runtime's commands, plus the compiler's as they land.

It lives in the compiler because the compiler may import the runtime, never
the reverse.
"""

from __future__ import annotations

from sgde.runtime.cli import app

__all__ = ["app", "main"]


def main() -> None:
    app(prog_name="sgde")


if __name__ == "__main__":
    main()
