"""One error root for readout, with user mistakes apart from run failures.

`UserError` (bad input, bad flags, missing configuration) maps to exit code 2 in the CLI;
`RunError` (a server that failed, a model that never produced a valid summary) maps to exit code 1.
Every message is a single line and never contains a secret.
"""

from __future__ import annotations


class ReadoutError(Exception):
    """Root of every error readout raises on purpose."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        # One line, always: a multi-line message would break logs and the CLI contract.
        super().__init__(" ".join(str(message).split()))

    @property
    def message(self) -> str:
        return str(self)


class UserError(ReadoutError):
    """The caller asked for something that cannot work: fix the input or the options."""

    exit_code = 2


class InputError(UserError):
    """The document itself is unusable (empty, binary, undecodable, too large)."""


class ConfigError(UserError):
    """Configuration is missing or inconsistent (an API key, a model, a base URL)."""


class RunError(ReadoutError):
    """The input was fine but the run failed (server errors, exhausted retries)."""


class EngineError(RunError):
    """An engine could not produce a valid summary."""

    def __init__(
        self,
        message: str,
        *,
        attempts: int = 0,
        usage: dict[str, int] | None = None,
    ) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.usage = dict(usage or {})


class GroundingError(RunError):
    """An engine produced an item whose evidence does not resolve into the source."""
