"""The sandbox every letter renders in: no Python internals, bounded loops, time and size.

Templates are Word files any clerk can edit. Jinja's SandboxedEnvironment already refuses
attribute walks such as `''.__class__.__mro__` or `cycler.__init__.__globals__` (SecurityError);
here it also refuses what hangs or floods a pack: `range()` beyond `MAX_RANGE`, more than
`MAX_LOOP_STEPS` range steps in one letter, a string or list multiplied past `MAX_TEXT`
(`'x'*10**8`), huge powers, and any render running past its deadline (`render_limits`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from jinja2 import Template
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

MAX_RANGE = 10_000
MAX_LOOP_STEPS = 200_000
MAX_TEXT = 1_000_000  # characters (or items) one expression may build
MAX_PART_CHARS = 20_000_000  # one rendered part of a letter (its XML)
MAX_EXPONENT = 1_000
RENDER_SECONDS = 10.0

_local = threading.local()


@contextmanager
def render_limits(seconds: float = RENDER_SECONDS) -> Iterator[None]:
    """Bound one letter's rendering: time, and range steps across all its parts."""
    outer = getattr(_local, "limits", None)
    if outer is not None:  # already inside a letter's limits: they cover this part too
        yield
        return
    _local.limits = [time.monotonic() + seconds, 0, seconds, 0]  # deadline, steps, s, ticks
    try:
        yield
    finally:
        _local.limits = None


def _tick(steps: int = 0) -> None:
    limits = getattr(_local, "limits", None)
    if limits is None:
        return
    limits[1] += steps
    limits[3] += 1
    if limits[3] % 64:  # the clock is read every 64th step: this sits on every loop step
        return
    if limits[1] > MAX_LOOP_STEPS:
        raise SecurityError(f"模板在一封函件里循环超过 {MAX_LOOP_STEPS:,} 次：请检查模板中的循环")
    if time.monotonic() > limits[0]:
        raise SecurityError(f"生成一封函件用时超过 {limits[2]:g} 秒：请简化模板")


def _range(*args: int) -> Iterator[int]:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise SecurityError(f"range() 产生 {len(numbers):,} 个数，最多只能 {MAX_RANGE:,} 个")
    for n in numbers:
        _tick(1)
        yield n


def bounded_render(template: Template, context: dict[str, Any]) -> str:
    """`template.render(context)`, stopped once the output passes `MAX_PART_CHARS`."""
    parts, size = [], 0
    for chunk in template.generate(context):
        size += len(chunk)
        if size > MAX_PART_CHARS:
            raise SecurityError(
                f"函件内容超过 {MAX_PART_CHARS:,} 个字符：某个标签输出 {chunk[:20]!r}…"
                "次数太多或内容太长"
            )
        parts.append(chunk)
    return "".join(parts)


def _size(value: Any) -> int | None:
    return len(value) if isinstance(value, str | bytes | list | tuple) else None


class LetterSandbox(SandboxedEnvironment):
    """SandboxedEnvironment with loop, size and time limits for letters."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals["range"] = _range

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _tick()
        if operator == "**" and isinstance(right, int) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"乘方 {right} 太大，最多只能 {MAX_EXPONENT}")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                size = _size(seq)
                if size is not None and isinstance(times, int) and size * times > MAX_TEXT:
                    raise SecurityError(
                        f"把文字或列表乘到 {size * times:,} 项，最多只能 {MAX_TEXT:,} 项"
                    )
        return super().call_binop(context, operator, left, right)

    def call(
        __self,  # Jinja names it so: a keyword argument may be called "self"
        __context: Context,
        __obj: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        _tick()
        return super().call(__context, __obj, *args, **kwargs)
