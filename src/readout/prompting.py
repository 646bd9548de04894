"""Prompt templates for the LLM engine: loading, rendering, the data block and the prompt hash.

A template is a versioned TOML file in `prompts/` (`<id>.v<version>.toml`) with `id`, `version`,
`system` and `user` (Jinja2 templates rendered with `StrictUndefined`, so a missing variable is an
error, never an empty string) and optional `[[examples]]` few-shot pairs (`input`: the example
readout's sentences, `output`: the answer as JSON text).

The readout only ever goes into the user message, inside a data block fenced by a per-call random
boundary, as numbered sentences `[S1] ...` (S number = sentence index + 1). Text that could be
mistaken for our markup — a literal `[S12]`, the `<<<`/`>>>` fences — is neutralised first, and
every sentence is put on a single line, so a readout cannot fake a sentence number or close the
block early. The system prompt states the single task and that the block is data.

`prompt_hash` is the sha256 of everything that shapes the prompt except the document: the rendered
system text, the rendered few-shot messages and the user template source. It is stable across
calls (the boundary and the readout are not part of it), so results made with the same prompt can
be compared and results made with an edited prompt are recognisably different.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from .errors import ConfigError
from .resources import data_dir
from .segmentation import Document

__all__ = [
    "PromptTemplate",
    "RenderedPrompt",
    "data_block",
    "estimate_tokens",
    "load_prompt",
    "new_boundary",
    "numbered_sentences",
    "render_prompt",
]

DEFAULT_PROMPT_ID = "summarize"
_FILE = re.compile(r"^(?P<id>[a-z][a-z0-9_-]*)\.v(?P<version>\d+)\.toml$")
_ENV = jinja2.Environment(
    undefined=jinja2.StrictUndefined,
    autoescape=False,
    keep_trailing_newline=False,
    trim_blocks=True,
    lstrip_blocks=True,
)

# Markup the model must only ever see from us.
_FAKE_MARKER = re.compile(r"\[\s*([Ss])\s*(\d+)\s*\]")
_FENCE = re.compile(r"<{3,}|>{3,}")
_WS = re.compile(r"\s+")


@dataclass(frozen=True, eq=False)
class PromptTemplate:
    """One versioned prompt: system and user Jinja2 templates plus few-shot examples."""

    id: str
    version: str
    system: str
    user: str
    examples: tuple[Mapping[str, Any], ...] = ()
    path: Path | None = field(default=None, compare=False)
    mode: str = "summarize"
    """`summarize` (the model finds the items) or `review` (it reviews the offline draft)."""
    review_speaker: bool = True
    """In review mode: whether the model may correct a draft item's speaker."""
    review_additions: str = "any"
    """In review mode: which added items are kept, `any` or `uncovered` (see review_to_summary)."""

    def _system(self, **variables: Any) -> str:
        return _compile(self.system).render(**variables).strip()

    def _user(self, **variables: Any) -> str:
        return _compile(self.user).render(**variables).strip()


@dataclass(frozen=True)
class RenderedPrompt:
    """The chat messages for one call, and what identifies the prompt that made them."""

    messages: list[dict[str, str]]
    prompt_id: str
    prompt_version: str
    prompt_hash: str
    boundary: str
    estimated_tokens: int

    @property
    def system(self) -> str:
        return self.messages[0]["content"]

    @property
    def user(self) -> str:
        return self.messages[-1]["content"]


@functools.lru_cache(maxsize=64)
def _compile(source: str) -> jinja2.Template:
    return _ENV.from_string(source)


def _read_template(path: Path) -> PromptTemplate:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"prompt template {path.name}: cannot read it: {exc}") from None
    missing = [k for k in ("id", "version", "system", "user") if k not in data]
    if missing:
        raise ConfigError(f"prompt template {path.name}: missing {', '.join(missing)}")
    examples = tuple(data.get("examples", ()))
    for n, ex in enumerate(examples):
        if "input" not in ex or "output" not in ex:
            raise ConfigError(f"prompt template {path.name}: example {n} needs input and output")
        json.loads(ex["output"])  # an example answer must be valid JSON
    additions = str(data.get("review_additions", "any"))
    if additions not in ("any", "uncovered"):
        raise ConfigError(f"prompt template {path.name}: unknown review_additions {additions!r}")
    mode = str(data.get("mode", "summarize"))
    if mode not in ("summarize", "review"):
        raise ConfigError(f"prompt template {path.name}: unknown mode {mode!r}")
    return PromptTemplate(
        id=str(data["id"]),
        version=str(data["version"]),
        system=str(data["system"]),
        user=str(data["user"]),
        examples=examples,
        path=path,
        mode=mode,
        review_speaker=bool(data.get("review_speaker", True)),
        review_additions=additions,
    )


@functools.lru_cache(maxsize=16)
def load_prompt(
    prompt_id: str = DEFAULT_PROMPT_ID, version: str | None = None, *, directory: str | None = None
) -> PromptTemplate:
    """The template `prompt_id` at `version` (default: the highest version shipped)."""
    root = Path(directory) if directory else data_dir("prompts")
    found: dict[int, Path] = {}
    for path in root.glob("*.toml"):
        m = _FILE.match(path.name)
        if m and m.group("id") == prompt_id:
            found[int(m.group("version"))] = path
    if not found:
        raise ConfigError(f"no prompt template named {prompt_id!r} in {root}")
    if version is None:
        return _read_template(found[max(found)])
    try:
        return _read_template(found[int(str(version).lstrip("v"))])
    except (KeyError, ValueError):
        known = ", ".join(f"v{v}" for v in sorted(found))
        raise ConfigError(
            f"prompt {prompt_id!r} has no version {version!r} (have {known})"
        ) from None


def new_boundary(rng: random.Random | None = None) -> str:
    """A fresh boundary token for one call (random unless a seeded `rng` is given, for tests)."""
    bits = (rng or random.SystemRandom()).getrandbits(64)
    return f"READOUT-DATA-{bits:016x}"


def neutralise(text: str, boundary: str = "") -> str:
    """One line of readout text that cannot fake our markup: `[S12]` -> `(S12)`, fences broken."""
    text = _WS.sub(" ", text).strip()
    if "[" in text:
        text = _FAKE_MARKER.sub(lambda m: f"({m.group(1)}{m.group(2)})", text)
    if "<<<" in text or ">>>" in text:
        text = _FENCE.sub(lambda m: " ".join(m.group(0)), text)
    if boundary and boundary in text:  # only possible with a guessed token: break it up
        text = text.replace(boundary, boundary.replace("-", " - "))
    return text


def numbered_sentences(document: Document, boundary: str = "") -> str:
    """`[S1] first sentence` lines, one per sentence, S number = sentence index + 1."""
    return "\n".join(
        f"[S{s.index + 1}] {neutralise(s.text, boundary)}" for s in document.sentences
    )


def data_block(document: Document, boundary: str, *, hints: str = "") -> str:
    """The fenced data block: numbered sentences, then optional hints derived from the text."""
    parts = [f"<<<{boundary}>>>", numbered_sentences(document, boundary)]
    if hints:
        parts.append(neutralise_block(hints, boundary))
    parts.append(f"<<<END {boundary}>>>")
    return "\n".join(parts)


def neutralise_block(text: str, boundary: str) -> str:
    """Neutralise each line of a multi-line block (hints built from readout text)."""
    return "\n".join(neutralise(line, boundary) for line in text.splitlines() if line.strip())


def estimate_tokens(text: str) -> int:
    """A conservative token estimate for prompt budgeting: about 3.2 characters per token.

    Real tokenizers give ~4 characters per token on English prose; we over-estimate so that a
    prompt we accept also fits the server.
    """
    return int(len(text) / 3.2) + 1


def _example_input(sentences: Sequence[str], boundary: str, hints: str) -> str:
    lines = [f"[S{i}] {neutralise(s, boundary)}" for i, s in enumerate(sentences, 1)]
    parts = [f"<<<{boundary}>>>", *lines]
    if hints:
        parts.append(neutralise_block(hints, boundary))
    parts.append(f"<<<END {boundary}>>>")
    return "\n".join(parts)


_PLACEHOLDER = "READOUT-DATA-\x00BOUNDARY\x00"


@functools.lru_cache(maxsize=64)
def _example_messages(
    template: PromptTemplate, summary_language: str
) -> tuple[tuple[str, str], ...]:
    """The few-shot user/assistant pairs, rendered once with a placeholder boundary."""
    out: list[tuple[str, str]] = []
    for ex in template.examples:
        out.append((
            "user",
            template._user(
                data=_example_input(ex["input"], _PLACEHOLDER, ex.get("hints", "")),
                boundary=_PLACEHOLDER,
                summary_language=summary_language,
                n_sentences=len(ex["input"]),
            ),
        ))
        out.append((
            "assistant",
            json.dumps(json.loads(ex["output"]), ensure_ascii=False, separators=(",", ":")),
        ))
    return tuple(out)


@functools.lru_cache(maxsize=64)
def _fixed_part(template: PromptTemplate, summary_language: str) -> tuple[str, str]:
    """The rendered system text and the prompt hash (both independent of the document)."""
    system = template._system(summary_language=summary_language)
    turns = _example_messages(template, summary_language)
    examples = [
        (user.replace(_PLACEHOLDER, "BOUNDARY"), answer)
        for (_, user), (_, answer) in zip(turns[::2], turns[1::2], strict=True)
    ]
    digest = hashlib.sha256(
        json.dumps(
            {"system": system, "examples": examples, "user": template.user}
            | ({"mode": template.mode} if template.mode != "summarize" else {})
            | ({} if template.review_speaker else {"review_speaker": False})
            | ({} if template.review_additions == "any" else
               {"review_additions": template.review_additions}),
            ensure_ascii=False,
            sort_keys=True,
        ).encode("utf-8")
    ).hexdigest()
    return system, digest


def render_prompt(
    template: PromptTemplate,
    document: Document,
    *,
    boundary: str,
    summary_language: str = "English",
    hints: str = "",
) -> RenderedPrompt:
    """The chat messages for `document`: system, few-shot pairs, then the data block."""
    system, digest = _fixed_part(template, summary_language)
    messages = [{"role": "system", "content": system}]
    for role, content in _example_messages(template, summary_language):
        # the examples use this call's boundary too (rendered once, with a placeholder)
        messages.append({"role": role, "content": content.replace(_PLACEHOLDER, boundary)})
    messages.append(
        {
            "role": "user",
            "content": template._user(
                data=data_block(document, boundary, hints=hints),
                boundary=boundary,
                summary_language=summary_language,
                n_sentences=len(document.sentences),
            ),
        }
    )
    tokens = sum(estimate_tokens(m["content"]) + 4 for m in messages)
    return RenderedPrompt(
        messages=messages,
        prompt_id=template.id,
        prompt_version=template.version,
        prompt_hash=digest,
        boundary=boundary,
        estimated_tokens=tokens,
    )
