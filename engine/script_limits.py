"""Time and memory bounds of diagram code (scripts, conditions, timer expressions), in-process on CPython.

What is bounded, and how:
- **Time**: the CPU time of the thread running the diagram code (`time.thread_time`: a loaded machine does not
  make a script fail; garbage collection and the domain's helper functions, e.g. a report query, are not
  counted). A trace function of that thread (`sys.settrace`, per thread, so web worker threads work too) checks it
  at every line, call and loop iteration of the diagram's own code: a `while True`, a long comprehension or deep
  recursion stops within one line of the limit. A single call into C that runs long by itself (e.g. `sorted` of
  a huge list) is not interrupted; the size guard below refuses the operations that make such inputs in one step.
- **Memory**: the resident memory of the process (Linux `/proc/self/statm`) is sampled every few lines of diagram
  code; growth beyond the limit since the first sample stops it (a list grown in a loop stops near the limit).
  The operators that allocate a lot in one step (`*` on a string, list or tuple, `**`, `<<`) are checked before
  they run, from the sizes of their operands, so `"x" * 200_000_000` is refused without allocating it. Other
  one-step allocations (`"x".ljust(10**9)`) are caught after the fact, at the next sample. The sample counts the
  whole process, so a busy web worker may stop a script early, never late; memory Python reuses from what it
  freed earlier is not growth, and is not counted. (`tracemalloc` would count exactly, but slows every
  allocation while it runs: ~15x on a condition.)
Exceeding a bound raises ScriptLimitExceeded, which SpiffWorkflow turns into a task error: the engine makes it an
incident naming the element, like any other script failure.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Any

from .errors import ScriptRefused

SCRIPT_FILE = "<string>"  # the file name diagram code is compiled under (engine/sandbox.py)


class ScriptLimitExceeded(ScriptRefused):
    """Diagram code ran longer, or allocated more, than its limit."""


@dataclass(frozen=True)
class ScriptLimits:
    """The bounds of one run of diagram code; a setting of the deployment (DOORSTEP_SCRIPT_SECONDS, _MEMORY_MB)."""

    seconds: float = 1.0
    memory_bytes: int = 64 * 1024 * 1024

    def too_slow(self) -> ScriptLimitExceeded:
        return ScriptLimitExceeded(f"脚本运行超过 {self.seconds:g} 秒的时间上限，已被终止（是否有死循环？）")

    def too_big(self, size: int | None = None) -> ScriptLimitExceeded:
        what = f"（约 {size // (1024 * 1024)} MB）" if size else ""
        return ScriptLimitExceeded(f"脚本占用内存超过 {self.memory_bytes // (1024 * 1024)} MB 的上限{what}，"
                                   "已被终止")


_STATM = "/proc/self/statm"
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
SAMPLE_EVERY = 16  # lines of diagram code between two looks at the process's memory
_statm: list[int] = []  # the open file descriptor, once opened


def resident_bytes() -> int:
    """The resident memory of this process now (0 where /proc is not available: then only the size guard holds)."""
    try:
        if not _statm:
            _statm.append(os.open(_STATM, os.O_RDONLY))
        return int(os.pread(_statm[0], 64, 0).split()[1]) * _PAGE
    except OSError:
        return 0


_running = threading.local()  # the bounds of the diagram code this thread runs, if any


class bounded:  # noqa: N801 - used like a function: `with bounded(limits):`
    """Run the block under the time and memory limits (nested use keeps the outer bounds).

    A class rather than a generator: a generator's frame resumed under a trace function costs ~20 µs more.
    """

    def __init__(self, limits: ScriptLimits):
        self.limits = limits
        self.deadline = 0.0
        self.lines = self.ceiling = 0  # the memory ceiling is set at the first sample: most conditions never get there
        self.outer = False
        self.previous: Any = None

    def __enter__(self) -> None:
        self.outer = getattr(_running, "bounds", None) is None
        if self.outer:  # an inner use (diagram code evaluated while diagram code runs) keeps the outer bounds
            _running.bounds = self
            self.deadline = time.thread_time() + self.limits.seconds
            self.previous = sys.gettrace()
            sys.settrace(self.check)

    def __exit__(self, *_exc: object) -> None:
        if self.outer:
            sys.settrace(self.previous)
            _running.bounds = None

    def check(self, frame: FrameType, _event: str, _arg: Any) -> Any:
        if frame.f_code.co_filename != SCRIPT_FILE:
            return None  # helpers and library code are not traced line by line
        if time.thread_time() > self.deadline:
            raise self.limits.too_slow()
        self.lines += 1
        if self.lines % SAMPLE_EVERY == 0:
            resident = resident_bytes()
            self.ceiling = self.ceiling or resident + self.limits.memory_bytes
            if resident > self.ceiling:
                raise self.limits.too_big()
        return self.check


@contextlib.contextmanager
def not_counted() -> Iterator[None]:
    """Time spent in the block (a helper of the domain, e.g. a report query) does not count against the script."""
    started = time.thread_time()
    try:
        yield
    finally:
        _not_counted_since(started)


def _not_counted_since(started: float) -> None:
    bounds = getattr(_running, "bounds", None)
    if bounds is not None:
        bounds.deadline += time.thread_time() - started


def _collecting(phase: str, _info: dict[str, Any]) -> None:
    """Garbage collection that happens to run during a script is the process's work, not the script's."""
    if phase == "start":
        _running.collecting_since = time.thread_time()
    elif getattr(_running, "collecting_since", None) is not None:
        _not_counted_since(_running.collecting_since)
        _running.collecting_since = None


gc.callbacks.append(_collecting)


def sized_operation(limits: ScriptLimits) -> Any:
    """The guard of `*`, `**` and `<<` in diagram code: refuse a result too big before computing it."""

    def operate(op: str, left: Any, right: Any) -> Any:
        size = _result_size(op, left, right)
        if size is not None and size > limits.memory_bytes:
            raise limits.too_big(size)
        return OPERATIONS[op](left, right)

    return operate


OPERATIONS = {"*": lambda a, b: a * b, "**": lambda a, b: a ** b, "<<": lambda a, b: a << b}
_ITEM_BYTES: dict[type, int] = {str: 1, bytes: 1, list: 8, tuple: 8}


def _result_size(op: str, left: Any, right: Any) -> int | None:
    """Bytes the result of an operation will take, roughly, when it can be large; None when it cannot."""
    if op == "*":
        for sequence, count in ((left, right), (right, left)):
            if type(sequence) in _ITEM_BYTES and isinstance(count, int):
                return len(sequence) * max(count, 0) * _ITEM_BYTES[type(sequence)]
        return None
    if isinstance(left, int) and isinstance(right, int) and not isinstance(left, bool) and right > 0:
        if op == "**" and abs(left) > 1:
            return left.bit_length() * right // 8
        if op == "<<":
            return (left.bit_length() + right) // 8
    return None
