"""Templates render in a child process bounded in time and memory (profiles.render_worker):
what the in-process sandbox cannot bound costs one refused send, never the service."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain import rendering
from domain.errors import InvalidTemplate
from profiles.render_worker import RenderWorker

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
CONTEXT = {"firstName": "Ann", "variables": {"city": "Tallinn"}}


@pytest.fixture
def worker():
    w = RenderWorker()
    yield w
    w.close()


def render(w, source, **kwargs):
    return w(source, CONTEXT, timezone=kwargs.get("timezone", "Europe/Tallinn"), now=NOW, html=kwargs.get("html", True))


def test_renders_exactly_as_the_sandbox_does(worker):
    source = "Hi {{ firstName }} from {{ variables.city }} at {{ now.strftime('%H:%M') }} <{{ '<b>' }}>"
    assert render(worker, source) == rendering.render(source, CONTEXT, timezone="Europe/Tallinn", now=NOW, html=True)
    assert render(worker, source) == "Hi Ann from Tallinn at 11:00 <&lt;b&gt;>"


@pytest.mark.parametrize("bomb", [
    "{{ 'x'.ljust(2000000000) }}",  # one C call asks for 2 GB
    "{{ ('x' * 99999).join(range(100000)|map('string')) }}",  # 10^10 characters
    "{{ ('x' * 99999).replace('x', 'y' * 99999) }}",
])
def test_a_memory_bomb_is_refused_and_the_next_render_works(worker, bomb):
    with pytest.raises(InvalidTemplate):
        render(worker, "A" + bomb + "Z")
    assert render(worker, "Hi {{ firstName }}") == "Hi Ann"


@pytest.mark.parametrize("loop", [
    "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
    "{% for a in range(1000) %}{{ 'x' * 99999 }}{% endfor %}",
    "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
])
def test_runaway_loops_and_recursion_are_refused(worker, loop):
    with pytest.raises(InvalidTemplate):
        render(worker, loop)
    assert render(worker, "Hi {{ firstName }}") == "Hi Ann"


def test_a_render_over_its_time_is_stopped_and_the_process_replaced():
    worker = RenderWorker(seconds=0.01)
    try:
        worker("warm {{ 1 }}", CONTEXT, timezone=None, now=NOW, html=False)  # start-up is not render time
        first = worker._process.pid  # noqa: SLF001
        with pytest.raises(InvalidTemplate, match="longer than"):
            worker("{% for a in range(100000) %}{% for b in range(100) %}{% endfor %}{% endfor %}", CONTEXT,
                   timezone=None, now=NOW, html=False)
        worker.seconds = 5.0
        assert worker("Hi {{ firstName }}", CONTEXT, timezone=None, now=NOW, html=False) == "Hi Ann"
        assert worker._process.pid != first  # noqa: SLF001
    finally:
        worker.close()


def test_a_render_process_that_died_is_replaced(worker):
    assert render(worker, "{{ 1 + 1 }}") == "2"
    worker._process.kill()  # noqa: SLF001 - as the OOM killer would
    worker._process.wait()  # noqa: SLF001
    assert render(worker, "{{ 2 + 2 }}") == "4"


def test_close_stops_the_process(worker):
    render(worker, "x")
    process = worker._process  # noqa: SLF001
    worker.close()
    assert process.poll() is not None
