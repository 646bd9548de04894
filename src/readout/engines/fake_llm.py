"""`FakeLLMServer`: a fake OpenAI-compatible chat server for unit tests. It is fake.

It answers `POST /v1/chat/completions` from a script, in process, through the HTTP transport of a
real `openai.OpenAI`/`AsyncOpenAI` client, so the whole engine path (instructor, retries, re-asks,
usage, errors) runs for real while the answers are the ones a test needs. Each scripted reply is
a dict / JSON string (the model's answer text), an `(status, body, headers)` tuple (an HTTP
error) or an exception instance (raised by the transport, e.g. `httpx2.ConnectError`). It records
every request body it received.

Tests that exercise a *real* model's behaviour use the recorded cassettes instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import httpx2
import openai

__all__ = ["FakeLLMServer", "FakeReply"]

FakeReply = dict[str, Any] | str | tuple[int, Any, dict[str, str]] | BaseException


class FakeLLMServer:
    """A scripted, in-process fake of an OpenAI-compatible server (for tests only)."""

    def __init__(
        self,
        replies: Iterable[FakeReply] = (),
        *,
        prompt_tokens: int = 100,
        completion_tokens: int = 20,
        model: str = "fake-model",
    ) -> None:
        self.replies: list[FakeReply] = list(replies)
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens
        self.model = model

    def _handle(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content or b"{}")
        self.requests.append(body)
        self.headers.append({k.lower(): v for k, v in request.headers.items()})
        if not self.replies:
            return httpx2.Response(500, json={"error": {"message": "fake server: no reply left"}})
        reply = self.replies.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, tuple):
            status, payload, headers = reply
            return httpx2.Response(status, json=payload, headers=headers)
        content = reply if isinstance(reply, str) else json.dumps(reply)
        return httpx2.Response(
            200,
            json={
                "id": f"chatcmpl-fake-{len(self.requests)}",
                "object": "chat.completion",
                "created": 0,
                "model": self.model,
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": content},
                    }
                ],
                "usage": {
                    "prompt_tokens": self.prompt_tokens,
                    "completion_tokens": self.completion_tokens,
                    "total_tokens": self.prompt_tokens + self.completion_tokens,
                },
            },
        )

    async def _ahandle(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        return self._handle(request)

    def client(self, **kwargs: Any) -> openai.OpenAI:
        """A real sync OpenAI client whose HTTP goes to this fake."""
        transport = httpx2.MockTransport(self._handle)
        return openai.OpenAI(
            api_key=kwargs.pop("api_key", "sk-fake-test"),
            base_url=kwargs.pop("base_url", "http://fake.invalid/v1"),
            http_client=httpx2.Client(transport=transport),
            **kwargs,
        )

    def async_client(self, **kwargs: Any) -> openai.AsyncOpenAI:
        """A real async OpenAI client whose HTTP goes to this fake."""
        transport = httpx2.MockTransport(self._ahandle)
        return openai.AsyncOpenAI(
            api_key=kwargs.pop("api_key", "sk-fake-test"),
            base_url=kwargs.pop("base_url", "http://fake.invalid/v1"),
            http_client=httpx2.AsyncClient(transport=transport),
            **kwargs,
        )
