"""Every cassette is a clean, readable recording: no secrets, no local paths, text bodies."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from .conftest import CASSETTES, KEEP_REQUEST_HEADERS, KEEP_RESPONSE_HEADERS

FILES = sorted(CASSETTES.glob("*.yaml"))
FORBIDDEN_HEADERS = {
    "authorization", "api-key", "x-api-key", "cookie", "set-cookie", "openai-organization",
    "openai-project", "proxy-authorization",
}
KEY_LIKE = re.compile(
    r"(sk-[A-Za-z0-9_-]{16,}|Bearer\s+\S+|api[_-]?key\s*[=:]\s*\S+|AKIA[0-9A-Z]{16}"
    r"|ghp_[A-Za-z0-9]{20,}|hf_[A-Za-z0-9]{20,})",
    re.IGNORECASE,
)
LOCAL_PATH = re.compile(r"(/root/|/home/|/Users/|\.gguf|\.cache/)")


def test_the_recorded_cassettes_exist() -> None:
    names = {f.name for f in FILES}
    assert {"qwen-seed.yaml", "qwen-injection.yaml", "gemma-reask.yaml",
            "gemma-context-overflow.yaml"} <= names


@pytest.mark.parametrize("path", FILES, ids=[f.name for f in FILES])
def test_cassette_is_clean(path: Path) -> None:
    raw = path.read_text(encoding="utf-8")
    assert not KEY_LIKE.search(raw), f"{path.name}: key-like string"
    assert not LOCAL_PATH.search(raw), f"{path.name}: local path"
    assert "!!binary" not in raw, f"{path.name}: binary (compressed?) body"
    data = yaml.safe_load(raw)
    assert data["interactions"], f"{path.name}: no interactions"
    for interaction in data["interactions"]:
        request, response = interaction["request"], interaction["response"]
        req_headers = {k.lower() for k in request.get("headers", {})}
        res_headers = {k.lower() for k in response.get("headers", {})}
        assert not req_headers & FORBIDDEN_HEADERS and not res_headers & FORBIDDEN_HEADERS
        assert req_headers <= KEEP_REQUEST_HEADERS and res_headers <= KEEP_RESPONSE_HEADERS
        assert request["uri"].startswith("http://127.0.0.1:"), "recorded against local server"
        assert isinstance(request["body"], str)
        json.loads(request["body"])  # readable JSON text
        body = response["body"]["string"]
        assert isinstance(body, str)
        json.loads(body)
