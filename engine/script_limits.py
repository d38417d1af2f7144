"""Time and memory bounds of diagram code (scripts, conditions, timer expressions), in-process on CPython.

What is bounded, and how:
- **Time**: while diagram code runs, a trace function of that thread (`sys.settrace`, per thread, so web worker
  threads work too) checks a deadline at every line, call and loop iteration of the diagram's own code: a
  `while True`, a long comprehension or deep recursion stops within one line of the limit. Time spent inside the
  domain's helper functions (a report query) is not counted. A single call into C that runs long by itself
  (e.g. `sorted` of a huge list) is not interrupted; the size guard below refuses the operations that make such
  inputs in one step.
- **Memory**: Python allocations made while the code runs are counted with `tracemalloc` and checked at every
  line (a list grown in a loop stops at the limit); the operators that allocate a lot in one step (`*` on a
  string, list or tuple, `**`, `<<`) are checked before they run, from the sizes of their operands, so
  `"x" * 200_000_000` is refused without allocating it. Other one-step allocations (`"x".ljust(10**9)`) are
  caught after the fact, at the next line. `tracemalloc` counts every thread's allocations while a script runs,
  so a busy web worker may stop a script slightly early, never late.
Exceeding a bound raises ScriptLimitExceeded, which SpiffWorkflow turns into a task error: the engine makes it an
incident naming the element, like any other script failure.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
import tracemalloc
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


_tracing = threading.Lock()
_tracing_users = 0


@contextlib.contextmanager
def _counting_allocations() -> Iterator[None]:
    """tracemalloc on while at least one thread runs diagram code (it is process-wide)."""
    global _tracing_users
    with _tracing:
        if _tracing_users == 0 and not tracemalloc.is_tracing():
            tracemalloc.start()
        _tracing_users += 1
    try:
        yield
    finally:
        with _tracing:
            _tracing_users -= 1
            if _tracing_users == 0:
                tracemalloc.stop()


@dataclass
class _Budget:
    deadline: float


_running = threading.local()  # the budget of the diagram code this thread runs, if any


@contextlib.contextmanager
def bounded(limits: ScriptLimits) -> Iterator[None]:
    """Run the block under the time and memory limits (nested use keeps the outer bounds)."""
    if getattr(_running, "budget", None) is not None:
        yield  # already bounded (diagram code evaluated while other diagram code runs)
        return
    budget = _running.budget = _Budget(time.monotonic() + limits.seconds)
    with _counting_allocations():
        baseline = tracemalloc.get_traced_memory()[0]

        def check(frame: FrameType, _event: str, _arg: Any) -> Any:
            if frame.f_code.co_filename != SCRIPT_FILE:
                return None  # helpers and library code are not traced line by line
            if time.monotonic() > budget.deadline:
                raise limits.too_slow()
            if tracemalloc.get_traced_memory()[0] - baseline > limits.memory_bytes:
                raise limits.too_big()
            return check

        previous = sys.gettrace()
        sys.settrace(check)
        try:
            yield
        finally:
            sys.settrace(previous)
            _running.budget = None


@contextlib.contextmanager
def not_counted() -> Iterator[None]:
    """Time spent in the block (a helper of the domain, e.g. a report query) does not count against the script."""
    started = time.monotonic()
    try:
        yield
    finally:
        budget = getattr(_running, "budget", None)
        if budget is not None:
            budget.deadline += time.monotonic() - started


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
