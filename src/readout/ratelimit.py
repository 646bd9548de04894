"""A rate limiter shared by every worker of a run: one pause for a 429, optional rpm/tpm budgets.

When a server answers 429 with `Retry-After`, the worker that saw it calls `pause_for(seconds)`
and every worker waits until then before its next request (one pause, not N independent retries).
`rpm`/`tpm` budgets are sliding 60-second windows over requests started and tokens estimated.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable


class RateLimiter:
    """Shared pacing for requests to one server (async and thread safe)."""

    def __init__(
        self,
        *,
        rpm: int | None = None,
        tpm: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        sync_sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rpm is not None and rpm <= 0:
            raise ValueError("rpm must be positive")
        if tpm is not None and tpm <= 0:
            raise ValueError("tpm must be positive")
        self.rpm, self.tpm = rpm, tpm
        self._clock, self._sleep, self._sync_sleep = clock, sleep, sync_sleep
        self._resume_at = 0.0
        self._requests: deque[float] = deque()
        self._tokens: deque[tuple[float, int]] = deque()
        self._lock = threading.Lock()
        self.pauses = 0

    def pause_for(self, seconds: float) -> None:
        """Hold every worker for `seconds` from now (a 429 `Retry-After`)."""
        with self._lock:
            resume = self._clock() + max(0.0, seconds)
            if resume > self._resume_at:
                self._resume_at = resume
                self.pauses += 1

    def _delay(self, tokens: int) -> float:
        """Seconds to wait before a request of `tokens` may start; 0 reserves it now."""
        now = self._clock()
        while self._requests and self._requests[0] <= now - 60:
            self._requests.popleft()
        while self._tokens and self._tokens[0][0] <= now - 60:
            self._tokens.popleft()
        wait = max(0.0, self._resume_at - now)
        if self.rpm is not None and len(self._requests) >= self.rpm:
            wait = max(wait, self._requests[0] + 60 - now)
        if self.tpm is not None and self._tokens:
            used = sum(n for _, n in self._tokens)
            if used + tokens > self.tpm:
                wait = max(wait, self._tokens[0][0] + 60 - now)
        if wait <= 0:
            self._requests.append(now)
            if tokens:
                self._tokens.append((now, tokens))
        return wait

    async def acquire(self, tokens: int = 0) -> None:
        """Wait (asynchronously) until a request of about `tokens` tokens may start."""
        while True:
            with self._lock:
                wait = self._delay(tokens)
            if wait <= 0:
                return
            await self._sleep(wait)

    def acquire_sync(self, tokens: int = 0) -> None:
        """Blocking `acquire` for synchronous callers."""
        while True:
            with self._lock:
                wait = self._delay(tokens)
            if wait <= 0:
                return
            self._sync_sleep(wait)
