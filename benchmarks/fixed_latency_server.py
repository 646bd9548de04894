"""A fixed-latency OpenAI-compatible chat server on 127.0.0.1, for throughput benchmarks.

This is a benchmark tool, not a model: it answers every `POST /v1/chat/completions` after a
fixed delay with a schema-valid JSON answer built mechanically from the request (the sentence
count the prompt announces, the parties listed under "parties detected", and for a review
prompt a "keep" for every draft item its schema requires), so that what is
measured is how well a client overlaps requests, not what a model says.

    python benchmarks/fixed_latency_server.py --latency 0.5 [--port 0]

prints `listening on http://127.0.0.1:PORT/v1` on stdout once it accepts connections.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_N_SENTENCES = re.compile(r"numbered S1 to S(\d+)")
_PARTY_LINE = re.compile(r"^([a-z][a-z0-9_]{0,23}): ([^;\n]+)(?:; ([^;\n]+))?", re.MULTILINE)


def _last_user_message(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):  # content parts
                return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            return str(content or "")
    return ""


def _schema_max(node: Any) -> int | None:
    """The largest `maximum` in a JSON schema (the sentence-number bound), if any."""
    best: int | None = None
    if isinstance(node, dict):
        if isinstance(node.get("maximum"), int):
            best = node["maximum"]
        for value in node.values():
            found = _schema_max(value)
            if found is not None and (best is None or found > best):
                best = found
    elif isinstance(node, list):
        for value in node:
            found = _schema_max(value)
            if found is not None and (best is None or found > best):
                best = found
    return best


def answer_for(body: dict[str, Any]) -> dict[str, Any]:
    """A schema-valid answer for the request: one position per sentence (up to 12)."""
    user = _last_user_message(body)
    m = _N_SENTENCES.search(user)
    n = int(m.group(1)) if m else (_schema_max(body.get("response_format")) or 1)
    parties = []
    hints = user.split("parties detected", 1)[1] if "parties detected" in user else ""
    for pm in _PARTY_LINE.finditer(hints):
        if len(parties) == 2:
            break
        parties.append(
            {
                "id": pm.group(1),
                "name": pm.group(2).strip()[:120],
                "country": (pm.group(3) or "").strip()[:60] or None,
                "role": "participant",
            }
        )
    if not parties:
        parties = [{"id": "party_a", "name": "Party A", "country": None, "role": "participant"}]
    speaker = parties[0]["id"]
    positions = [
        {"sentences": [k], "party": speaker, "summary": f"The statement of sentence {k}."}
        for k in range(1, min(n, 12) + 1)
    ]
    agreements = []
    if len(parties) > 1:
        ids = [p["id"] for p in parties]
        agreements.append(
            {"sentences": [n], "parties": ids, "kind": "shared_view", "summary": "They agreed."}
        )
    answer: dict[str, Any] = {
        "headline": "Benchmark answer",
        "event": "call",
        "parties": parties,
        "positions": positions,
        "requests": [],
        "agreements": agreements,
    }
    # A review prompt (v2, v3): keep every draft item the schema requires a decision for.
    schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("schema") or {}
    draft_ids = ((schema.get("properties") or {}).get("review") or {}).get("required")
    if isinstance(draft_ids, list):
        answer["review"] = {d: {"decision": "keep", "summary": "Kept."} for d in draft_ids}
        answer["missing"] = []
    return answer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
    disable_nagle_algorithm = True
    wbufsize = 1 << 16  # headers and body leave in one write (flushed per request)
    latency = 0.5

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            self._send(
                200, {"object": "list", "data": [{"id": "fixed-latency", "object": "model"}]}
            )
        else:
            self._send(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send(404, {"error": {"message": "not found"}})
            return
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            self._send(400, {"error": {"message": "invalid JSON body"}})
            return
        started = time.monotonic()
        content = json.dumps(answer_for(body))
        prompt_tokens = max(1, len(raw) // 4)
        completion_tokens = max(1, len(content) // 4)
        time.sleep(max(0.0, self.latency - (time.monotonic() - started)))
        self._send(
            200,
            {
                "id": f"chatcmpl-bench-{time.monotonic_ns()}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model") or "fixed-latency",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            },
        )


def serve(latency: float, port: int = 0) -> ThreadingHTTPServer:
    """A server (not yet serving) with the given latency; `server.server_address[1]` is its port."""
    handler = type("FixedLatencyHandler", (Handler,), {"latency": latency})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    server.request_queue_size = 128
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.5, help="seconds per answer")
    parser.add_argument("--port", type=int, default=0, help="port (0: any free port)")
    args = parser.parse_args()
    server = serve(args.latency, args.port)
    print(f"listening on http://127.0.0.1:{server.server_address[1]}/v1", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        sys.stdout.flush()


if __name__ == "__main__":
    main()
