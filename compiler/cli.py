"""The `sgde` console script: the runtime's commands, plus the compiler's (compile, family, eval).

It lives in the compiler because the compiler may import the runtime, never
the reverse.
"""

from __future__ import annotations

from sgde.runtime.cli import app

from .cli_approve import approve_command
from .cli_compile import compile_command
from .cli_eval import eval_command
from .cli_export import export_tests_command
from .cli_family import family_app
from .cli_review import review_command

app.add_typer(family_app, name="family")
app.command("eval")(eval_command)
app.command("compile")(compile_command)
app.command("approve")(approve_command)
app.command("review")(review_command)
app.command("export-tests")(export_tests_command)

__all__ = ["app", "main"]


def main() -> None:
    app(prog_name="sgde")


if __name__ == "__main__":
    main()
