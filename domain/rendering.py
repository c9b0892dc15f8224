"""Sandboxed template rendering (DESIGN §2 rule 4).

Jinja2's immutable sandbox refuses access to Python internals; a missing placeholder
renders empty instead of failing a send; dates render in the contact's time zone.
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from jinja2 import ChainableUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from domain.errors import InvalidTemplate


def _localtime(value: Any, fmt: str = "%Y-%m-%d %H:%M", *, tz: str = "UTC") -> str:
    if value in (None, "") or isinstance(value, ChainableUndefined):
        return ""
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(ZoneInfo(tz)).strftime(fmt)


def _date(value: Any, fmt: str = "%Y-%m-%d") -> str:
    if value in (None, "") or isinstance(value, ChainableUndefined):
        return ""
    try:
        return date.fromisoformat(str(value)[:10]).strftime(fmt)
    except ValueError:
        return str(value)


MAX_OUTPUT = 100_000  # characters one operator may produce; bigger is an attack, not a message
MAX_POWER_BITS = 4096
MAX_RENDERED = 2 * MAX_OUTPUT  # characters one render may produce (a mail client clips far sooner)
# Template lines one render may run. Each loop is bounded on its own (the sandbox caps
# range() at 100 000) but loops nest: two of them are 10^10 steps, a worker stuck for hours.
# A real message runs a few hundred lines; a loop over a long variable list, thousands.
MAX_STEPS = 200_000
# Template frames (the body, blocks, macros) open at once. A macro calling itself would
# otherwise run until Python's own recursion limit, and a render that deep leaves no stack
# for anything else that runs meanwhile (a finalizer, a log call); real templates nest a
# few levels.
MAX_DEPTH = 100


class _BoundedSandbox(ImmutableSandboxedEnvironment):
    """The sandbox stops access to internals but not ``{{ 'x' * 10**9 }}`` or
    ``{{ 9 ** 9 ** 9 }}``: intercepting ``*`` and ``**`` keeps one render cheap.
    Intercepted operators are also never constant-folded at compile time."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(left, int) and isinstance(right, int) and (
            abs(left).bit_length() * right > MAX_POWER_BITS
        ):
            raise SecurityError(f"power result larger than {MAX_POWER_BITS} bits")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(times, int) and len(seq) * times > MAX_OUTPUT:
                    raise SecurityError(f"repetition longer than {MAX_OUTPUT}")
        return super().call_binop(context, operator, left, right)


@lru_cache(maxsize=2)
def _environment(autoescape: bool) -> ImmutableSandboxedEnvironment:
    env = _BoundedSandbox(undefined=ChainableUndefined, autoescape=autoescape)
    env.filters["date"] = _date
    return env


def check(source: str) -> None:
    """Refuse a template that does not compile, at authoring time rather than at send."""
    try:
        _environment(False).parse(source)
    except TemplateError as e:
        raise InvalidTemplate(f"template does not compile: {e}") from None


class _StepBudget:
    """A tracer that counts the lines compiled template code runs and the template frames
    open at once, and stops the render past ``MAX_STEPS`` or ``MAX_DEPTH``. Only template
    frames are followed line by line (their file is ``<template>``); the library and
    Python code they call cost one check per call."""

    def __init__(self) -> None:
        self.steps = 0
        self.depth = 0

    def __call__(self, frame: Any, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename != "<template>":
            return None
        self.depth += 1  # a frame entered (a generator's too, each time it resumes)
        if self.depth > MAX_DEPTH:
            raise SecurityError(f"templates nested more than {MAX_DEPTH} deep (a macro calling itself?)")
        return self._line

    def _line(self, frame: Any, event: str, arg: Any) -> Any:
        if event == "return":  # left, by return, yield or exception
            self.depth -= 1
        elif event == "line":
            self.steps += 1
            if self.steps > MAX_STEPS:
                # Raised inside the template's frame: the render unwinds like any error.
                raise SecurityError(f"template ran more than {MAX_STEPS} steps")
        return self._line


def _bounded(template: Any, context: dict[str, Any]) -> str:
    """``template.render(context)`` within ``MAX_STEPS`` and ``MAX_RENDERED``."""
    previous = sys.gettrace()  # a debugger's or coverage's tracer, restored after
    sys.settrace(_StepBudget())
    try:
        parts, size = [], 0
        for part in template.generate(context):
            size += len(part)
            if size > MAX_RENDERED:
                raise SecurityError(f"output longer than {MAX_RENDERED} characters")
            parts.append(part)
        return "".join(parts)
    finally:
        sys.settrace(previous)


class Render(Protocol):
    """How a send renders: ``render`` itself, or the service's bounded child process
    (``profiles.render_worker``) with the same arguments and errors."""

    def __call__(self, source: str, context: dict[str, Any], *, timezone: str | None, now: datetime,
                 html: bool) -> str: ...


def render(source: str, context: dict[str, Any], *, timezone: str | None, now: datetime, html: bool) -> str:
    tz = timezone or "UTC"
    env = _environment(html)
    try:
        template = env.from_string(source)
        local_now = now.astimezone(ZoneInfo(tz))
        return _bounded(template,
            {k: ("" if v is None else v) for k, v in context.items() if k != "variables"}
            | {
                "variables": context.get("variables", {}),
                "now": local_now,
                "today": local_now.date().isoformat(),
                "localtime": lambda v, fmt="%Y-%m-%d %H:%M": _localtime(v, fmt, tz=tz),
            }
        )
    except SecurityError as e:
        raise InvalidTemplate(f"template tried something the sandbox forbids: {e}") from None
    except RecursionError:
        raise InvalidTemplate("template recursed too deeply") from None
    except TemplateError as e:
        raise InvalidTemplate(f"template failed to render: {e}") from None
    except (ArithmeticError, TypeError, ValueError, LookupError, AttributeError) as e:
        # ``{{ 1/0 }}``, ``range(10**6)``, ``'x'|int + 'y'``: the template's fault, never a 500.
        raise InvalidTemplate(f"template failed to render: {type(e).__name__}: {e}") from None
