"""What every benchmark prints first (machine, versions, commit) and how it records results.

Usage: `head = header()` first (prints it, returns markdown lines), then at the end
`write_results("search_speed", head, body_lines)` → bench/results/search_speed.md,
which starts with the exact command that produced it.
"""

from __future__ import annotations

import os
import platform
import shlex
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BENCHMARKS = ROOT.parent / "shared" / "benchmarks"  # read-only data, never copied into the repo
PACKAGES = ("torch", "sentence-transformers", "transformers", "faiss-cpu", "bm25s", "numpy")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return 0.0


def _commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    sha = git("rev-parse", "--short", "HEAD") or "unknown"
    return sha + (" (+ uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else "")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "-"


def header() -> list[str]:
    """Machine, library versions, commit and date; printed, and returned as markdown lines."""
    lines = [
        f"- date: {time.strftime('%Y-%m-%d %H:%M:%S %z')}",
        f"- commit: {_commit()}",
        f"- machine: {os.cpu_count()} cores, {_cpu_model()}, {_ram_gib():.1f} GiB RAM, {platform.platform()}",
        f"- load average at start (other work on the machine skews timings): {os.getloadavg()[0]:.2f}",
        f"- python {platform.python_version()}; " + ", ".join(f"{p} {_version(p)}" for p in PACKAGES),
    ]
    print("\n".join(lines), flush=True)
    return lines


def command() -> str:
    """The command line that ran this script, as it can be pasted back."""
    return " ".join(shlex.quote(a) for a in [Path(sys.executable).name, "-m", _module(), *sys.argv[1:]])


def _module() -> str:
    script = Path(sys.argv[0]).resolve()
    try:
        return ".".join(script.relative_to(ROOT).with_suffix("").parts)
    except ValueError:
        return str(script)


def write_results(name: str, head: list[str], body: list[str], title: str | None = None) -> Path:
    """Write bench/results/<name>.md: title, the exact command, the header, then `body` (markdown lines)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.md"
    text = [
        f"# {title or name}",
        "",
        f"Command (from the repository root): `.venv/bin/{command()}`",
        "",
        *head,
        "",
        *body,
    ]
    path.write_text("\n".join(text).rstrip() + "\n", encoding="utf-8")
    print(f"results written to {path.relative_to(ROOT)}", flush=True)
    return path
