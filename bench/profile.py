"""py-spy profiles of the server workers while a scenario runs, summarised as text.

Each worker is sampled (``py-spy record --format raw``: collapsed stacks, one line per stack)
while the scenario runs; the summary lists the functions by share of samples, inclusive (the
function or anything it calls) and self (the function's own code).
"""

import contextlib
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path


def _py_spy() -> str | None:
    candidate = Path(sys.executable).with_name("py-spy")
    return str(candidate) if candidate.exists() else shutil.which("py-spy")


@contextlib.contextmanager
def record(stack, out_dir: Path, name: str, enabled: bool, gil: bool = False) -> Iterator[None]:
    tool = _py_spy() if enabled else None
    if not tool:
        yield
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    raws = [out_dir / f"{name}-{pid}.raw" for pid in stack.worker_pids()]
    log = open(out_dir / f"{name}.py-spy.log", "wb")  # noqa: SIM115 - closed below
    recorders = [
        subprocess.Popen(
            [
                tool,
                "record",
                "--pid",
                str(pid),
                "--rate",
                "250",
                "--format",
                "raw",
                "--output",
                str(raw),
                "--duration",
                "600",
                "--nonblocking",
                *(["--gil"] if gil else []),
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        for pid, raw in zip(stack.worker_pids(), raws, strict=True)
    ]
    try:
        yield
    finally:
        for recorder in recorders:
            recorder.send_signal(signal.SIGINT)
        for recorder in recorders:
            try:
                recorder.wait(timeout=30)
            except subprocess.TimeoutExpired:
                recorder.kill()
        log.close()
        stacks: Counter[str] = Counter()
        for raw in raws:
            if raw.exists():
                for line in raw.read_text().splitlines():
                    frames, _, count = line.rpartition(" ")
                    if frames and count.isdigit():
                        stacks[frames] += int(count)
                raw.unlink()
        if stacks:
            (out_dir / f"{name}.collapsed.txt").write_text(
                "".join(f"{frames} {count}\n" for frames, count in stacks.most_common())
            )
            (out_dir / f"{name}.txt").write_text(summary(stacks, title=name))


IDLE_LEAVES = ("select (", "poll (", "epoll", "wait (", "_wait_for_tstate")


def _function(frame: str) -> str:
    # py-spy raw frames look like "function (path/to/file.py:line)"
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/main/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})"


def summary(stacks: Counter, *, title: str, top: int = 45) -> str:
    total = sum(stacks.values())
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    idle = 0
    for frames, count in stacks.items():
        names = [_function(f) for f in frames.split(";") if f]
        if not names:
            continue
        leaf = names[-1]
        if any(word in leaf for word in IDLE_LEAVES):
            idle += count
        own[leaf] += count
        for name in set(names):
            inclusive[name] += count
    lines = [
        f"py-spy profile: {title}",
        f"{total} samples over all threads of the workers ({idle} in poll/wait: idle)",
        "",
        "inclusive % | function (file)",
    ]
    lines += [f"{100 * c / total:10.1f}% | {name}" for name, c in inclusive.most_common(top)]
    lines += ["", "self %      | function (file)"]
    lines += [f"{100 * c / total:10.1f}% | {name}" for name, c in own.most_common(top)]
    return "\n".join(lines) + "\n"
