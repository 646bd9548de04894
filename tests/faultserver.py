"""A local fault-injecting OpenAI-compatible HTTP server for tests (127.0.0.1, random free port).

Each test scripts a queue of actions; every HTTP request takes the next action from the queue and
is recorded (method, path, headers, body, arrival time) so tests can assert the number of
attempts, the gaps between them (the backoff actually waited) and the exact request bodies.

    server.push(status(503), status(429, retry_after="0.2"), completion('{"headline": "x"}'))

Actions:
- `status(code, retry_after=None, body=None)`: an HTTP error with an OpenAI-style error body;
- `completion(content, usage=...)`: a 200 with a valid chat completion whose message is `content`;
- `raw(body, status=200)`: any bytes as the body (invalid JSON, truncated JSON, ...);
- `reset(after=...)`: write part of a response (partial headers or headers + partial body), then
  close the socket: the client sees the connection reset midway;
- `hang(seconds)`: read the request, then sleep (interruptibly) beyond the client timeout;
- when the queue is empty the server answers `exhausted()`: a 599 that no test expects, so a
  client making more requests than scripted fails loudly.

`closed_port_url()` gives a URL where nothing listens (connection refused).

This is a test tool, not a fake model: it knows nothing about readouts.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "Action",
    "FaultServer",
    "RecordedRequest",
    "closed_port_url",
    "completion",
    "completion_body",
    "hang",
    "raw",
    "reset",
    "running",
    "status",
]

_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    409: "Conflict",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    599: "Fault Server Exhausted",
}


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    at: float  # time.monotonic() at arrival (headers and body read)

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.json().get("messages", [])


@dataclass(frozen=True)
class Action:
    """What the server does with one request."""

    kind: str  # "respond" | "reset" | "hang"
    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    after: str = "headers"  # for reset: "headers" (partial headers) or "body" (partial body)
    seconds: float = 0.0
    label: str = ""


def _error_body(code: int, message: str | None = None) -> bytes:
    kinds = {400: "invalid_request_error", 401: "invalid_api_key", 429: "rate_limit_exceeded"}
    return json.dumps(
        {
            "error": {
                "message": message or f"fault server: scripted {code}",
                "type": kinds.get(code, "server_error"),
                "param": None,
                "code": kinds.get(code),
            }
        }
    ).encode()


def status(
    code: int,
    *,
    retry_after: str | float | None = None,
    body: bytes | str | None = None,
    message: str | None = None,
    headers: dict[str, str] | None = None,
) -> Action:
    """An HTTP `code` response with an OpenAI-style error body (and `Retry-After` if given)."""
    hdrs = dict(headers or {})
    if retry_after is not None:
        hdrs["Retry-After"] = str(retry_after)
    data = body.encode() if isinstance(body, str) else body
    return Action(
        kind="respond",
        status=code,
        body=data if data is not None else _error_body(code, message),
        headers=tuple(hdrs.items()),
        label=f"{code}" + (f" retry-after={retry_after}" if retry_after is not None else ""),
    )


def completion_body(
    content: str,
    *,
    model: str = "fault-model",
    prompt_tokens: int = 100,
    completion_tokens: int = 20,
    finish_reason: str = "stop",
) -> dict[str, Any]:
    """A valid OpenAI chat completion whose single message has `content`."""
    return {
        "id": "chatcmpl-fault",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish_reason,
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def completion(content: str | dict[str, Any], **kwargs: Any) -> Action:
    """A 200 with a valid chat completion (`content` a string, or an object dumped as JSON)."""
    text = content if isinstance(content, str) else json.dumps(content)
    return Action(
        kind="respond",
        status=200,
        body=json.dumps(completion_body(text, **kwargs)).encode(),
        label="completion",
    )


def raw(body: bytes | str, *, code: int = 200, content_type: str = "application/json") -> Action:
    """Exactly `body` as the response body (valid HTTP framing, arbitrary content)."""
    data = body.encode() if isinstance(body, str) else body
    return Action(
        kind="respond",
        status=code,
        body=data,
        headers=(("Content-Type", content_type),),
        label=f"raw {code}",
    )


def reset(*, after: str = "headers") -> Action:
    """Close the connection midway: after partial headers (`headers`) or a partial body (`body`)."""
    if after not in ("headers", "body"):
        raise ValueError("after must be 'headers' or 'body'")
    return Action(kind="reset", after=after, label=f"reset after partial {after}")


def hang(seconds: float = 30.0) -> Action:
    """Read the request and answer nothing for `seconds` (a read timeout for the client)."""
    return Action(kind="hang", seconds=seconds, label=f"hang {seconds}s")


def exhausted() -> Action:
    return status(599, message="fault server: no scripted response left for this request")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr
        pass

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        body = self._read_body()
        fault = self.server.fault
        req = RecordedRequest(
            method=self.command,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            at=time.monotonic(),
        )
        action = fault._next(req)
        if action.kind == "hang":
            fault._stopping.wait(action.seconds)
            self.close_connection = True
            return
        if action.kind == "reset":
            payload = json.dumps(completion_body("x" * 200)).encode()
            head = (
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\n\r\n"
            ).encode()
            partial = head[:20] if action.after == "headers" else head + payload[: len(payload) // 3]
            self.wfile.write(partial)
            self.wfile.flush()
            # RST rather than FIN where the platform allows: SO_LINGER with a zero timeout.
            with suppress(OSError):
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
            self.close_connection = True
            return
        self.send_response(action.status, _REASONS.get(action.status))
        names = {k.lower() for k, _ in action.headers}
        if "content-type" not in names:
            self.send_header("Content-Type", "application/json")
        for k, v in action.headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(action.body)))
        self.end_headers()
        self.wfile.write(action.body)
        self.wfile.flush()

    do_POST = _handle
    do_GET = _handle
    do_PUT = _handle
    do_DELETE = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fault: FaultServer


@dataclass
class FaultServer:
    """The server: `push()` actions, point a client at `url`, read `requests` afterwards."""

    host: str = "127.0.0.1"
    on_request: Callable[[RecordedRequest], None] | None = None
    requests: list[RecordedRequest] = field(default_factory=list)
    served: list[str] = field(default_factory=list)  # label of the action used for each request
    _queue: deque[Action] = field(default_factory=deque)
    _default: Action | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _httpd: _Server | None = None
    _thread: threading.Thread | None = None

    # -- scripting ----------------------------------------------------------------------------
    def push(self, *actions: Action) -> FaultServer:
        with self._lock:
            self._queue.extend(actions)
        return self

    def default(self, action: Action | None) -> FaultServer:
        """The action used once the queue is empty (default: a loud 599)."""
        self._default = action
        return self

    def _next(self, req: RecordedRequest) -> Action:
        with self._lock:
            self.requests.append(req)
            action = self._queue.popleft() if self._queue else (self._default or exhausted())
            self.served.append(action.label)
        if self.on_request is not None:
            self.on_request(req)
        return action

    @property
    def remaining(self) -> int:
        with self._lock:
            return len(self._queue)

    @property
    def count(self) -> int:
        return len(self.requests)

    def gaps(self) -> list[float]:
        """Seconds between consecutive request arrivals (the client's waits, plus overhead)."""
        at = [r.at for r in self.requests]
        return [b - a for a, b in itertools.pairwise(at)]

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()
            self.served.clear()
            self._queue.clear()

    # -- lifecycle ----------------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """The OpenAI-style base URL (`http://127.0.0.1:PORT/v1`)."""
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> FaultServer:
        httpd = _Server((self.host, 0), _Handler)
        httpd.fault = self
        self._httpd = httpd
        self._stopping.clear()
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wake any hanging handler
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def running(*actions: Action) -> Iterator[FaultServer]:
    """A started server with `actions` queued, stopped on exit."""
    with FaultServer() as server:
        server.push(*actions)
        yield server


def closed_port_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens: connecting is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
