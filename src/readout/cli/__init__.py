"""The `readout` command line: thin commands that parse arguments and call one library function.

Exit codes: 0 ok, 1 run failure, 2 usage error or bad input. Errors print one line on stderr;
`--debug` shows the traceback.
"""

from __future__ import annotations

import logging
import sys
import traceback

import click

from ..errors import ReadoutError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class ReadoutGroup(click.Group):
    """A click group that turns exceptions into one-line errors and scheduler exit codes."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except ReadoutError as exc:
            _fail(ctx, exc, str(exc), exc.exit_code)
        except KeyboardInterrupt:
            click.echo("readout: interrupted", err=True)
            ctx.exit(130)
        except Exception as exc:
            _fail(ctx, exc, f"unexpected {type(exc).__name__}: {exc}".splitlines()[0], 1)


def _fail(ctx: click.Context, exc: BaseException, message: str, code: int) -> None:
    if (ctx.obj or {}).get("debug"):
        traceback.print_exception(exc, file=sys.stderr)
    hint = "" if (ctx.obj or {}).get("debug") else " (--debug for details)" if code == 1 else ""
    click.echo(f"readout: error: {message}{hint}", err=True)
    ctx.exit(code)


@click.group(cls=ReadoutGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="readout")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs on errors.")
@click.option("-v", "--verbose", is_flag=True, help="Log progress information to stderr.")
@click.pass_context
def cli(ctx: click.Context, debug: bool, verbose: bool) -> None:
    """Turn diplomatic readouts into validated, grounded, structured summaries.

    Every position, request and agreement carries evidence: exact character spans of the
    source. Without an API key readout uses its offline rules engine; set OPENAI_API_KEY (or
    READOUT_BASE_URL for a local OpenAI-compatible server) to use an LLM.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(
        level=level, format="readout: %(levelname)s: %(message)s", stream=sys.stderr
    )


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="readout")


from . import batch as _batch  # noqa: E402,F401
from . import core as _core  # noqa: E402,F401  (registers summarize, schema, eval)
