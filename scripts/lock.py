"""Compile the dependency inputs into hash-pinned locks, or check that the locks match them.

    python scripts/lock.py                           # make lock
    python scripts/lock.py --upgrade-package django  # make lock LOCK_ARGS="--upgrade-package ..."
    python scripts/lock.py --check                   # make lock-check (CI)

Two inputs, two locks (README "Dependencies"):

- ``requirements.in`` -> ``requirements.txt``: what running the server needs (``make run``).
- ``requirements-dev.in`` -> ``requirements-dev.txt``: all of the above plus tests, lint and
  tools (``make test``, ``make lint``); its ``-c requirements.txt`` keeps every shared package at
  the runtime lock's version.

Each lock is written by ``uv pip compile --generate-hashes`` (uv is in the dev lock) for CPython
3.11 on Linux, with every file PyPI has for each pinned version (any platform's wheels and the
sdist), so ``pip install -r`` runs in hash-checking mode and installs nothing unlisted. Markers
are kept (``async-timeout`` only below Python 3.11.3, for instance). uv keeps the versions
already in a lock and changes only what the input asks for: a new or removed dependency, or
``--upgrade-package NAME`` / ``--upgrade``.

Both modes compile into a temporary folder from the committed pins without their hashes, so
every hash is read from the index again. ``--check`` then compares with the committed lock:
the pins, markers and ``# via`` lines must be identical, and every hash in the committed lock
must still be listed for that version. Files PyPI added later to a pinned version (a wheel for
a new platform) are only reported: the committed hashes still verify what gets installed.
"""

from __future__ import annotations

import argparse
import difflib
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from uv import find_uv_bin

ROOT = Path(__file__).resolve().parent.parent

# (input, lock), in this order: the dev input constrains itself with the runtime lock.
LOCKS: tuple[tuple[str, str], ...] = (
    ("requirements.in", "requirements.txt"),
    ("requirements-dev.in", "requirements-dev.txt"),
)

COMPILE_ARGS: tuple[str, ...] = (
    "pip",
    "compile",
    "--quiet",
    "--generate-hashes",
    "--no-strip-markers",
    "--python-version",
    "3.11",
    "--python-platform",
    "linux",
    # Ignore uv.toml files of the machine or user: the same inputs give the same lock anywhere.
    "--no-config",
    "--custom-compile-command",
    "make lock",
)


def compile_lock(source: str, lock: str, tmp: Path, extra: list[str]) -> Path:
    """Compile ``source`` into ``tmp/lock``, keeping the versions the committed ``lock`` pins.

    The committed pins are uv's preferences; their hashes are left out, or uv would carry them
    over instead of reading every file's hash for that version from the index.
    """
    output = tmp / lock
    output.write_text(pins_only((ROOT / lock).read_text()) if (ROOT / lock).exists() else "")
    command = [find_uv_bin(), *COMPILE_ARGS, *extra, "--output-file", str(output), source]
    subprocess.run(command, cwd=ROOT, check=True)
    return output


@dataclass
class Lock:
    """A lock split into what the resolution decided and the hashes of each requirement."""

    lines: list[str] = field(default_factory=list)  # every line but the hashes
    hashes: dict[str, set[str]] = field(default_factory=dict)  # requirement -> sha256 values


def parse(text: str) -> Lock:
    lock = Lock()
    requirement = ""
    for raw in text.splitlines():
        line = raw.removesuffix("\\").rstrip()
        if line.lstrip().startswith("--hash="):
            lock.hashes[requirement].add(
                line.strip().removeprefix("--hash=").removeprefix("sha256:")
            )
            continue
        if line and not line[0].isspace() and not line.startswith(("#", "-")):
            requirement = line
            lock.hashes[requirement] = set()
        lock.lines.append(line)
    return lock


def pins_only(text: str) -> str:
    """The lock without its ``--hash`` lines (and the line continuations before them)."""
    lines = (raw.removesuffix("\\").rstrip() for raw in text.splitlines())
    return "".join(f"{line}\n" for line in lines if not line.lstrip().startswith("--hash="))


def compare(name: str, committed_text: str, fresh_text: str) -> bool:
    """True when the committed lock ``name`` still matches a fresh compile of its input."""
    committed, fresh = parse(committed_text), parse(fresh_text)
    if committed.lines != fresh.lines:
        print(f"{name} does not match its input: run `make lock` and commit the result.")
        sys.stdout.writelines(
            difflib.unified_diff(
                committed_text.splitlines(keepends=True),
                fresh_text.splitlines(keepends=True),
                f"{name} (committed)",
                f"{name} (compiled now)",
            )
        )
        return False
    ok = True
    added = 0
    for requirement, hashes in committed.hashes.items():
        if not hashes:
            print(f"{name}: {requirement} has no hash")
            ok = False
        unknown = hashes - fresh.hashes[requirement]
        if unknown:
            print(f"{name}: {requirement}: hashes the index does not list: {sorted(unknown)}")
            ok = False
        added += len(fresh.hashes[requirement] - hashes)
    if ok and added:
        print(f"{name}: {added} more files of pinned versions on the index (make lock adds them)")
    return ok


def check() -> bool:
    ok = True
    with tempfile.TemporaryDirectory(prefix="lock-check-") as tmp:
        for source, lock in LOCKS:
            fresh = compile_lock(source, lock, Path(tmp), [])
            matches = compare(lock, (ROOT / lock).read_text(), fresh.read_text())
            print(f"{lock}: {'matches' if matches else 'STALE'} {source}")
            ok = ok and matches
    return ok


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Compile or check the hashed locks.")
    parser.add_argument("--check", action="store_true", help="fail when a lock is stale")
    args, extra = parser.parse_known_args(argv)
    if args.check:
        if extra:
            parser.error("--check takes no other arguments")
        return 0 if check() else 1
    with tempfile.TemporaryDirectory(prefix="lock-") as tmp:
        for source, lock in LOCKS:
            (ROOT / lock).write_text(compile_lock(source, lock, Path(tmp), extra).read_text())
            print(f"{lock} <- {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
