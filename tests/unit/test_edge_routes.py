"""edge/routes.py: every route behind one set of guards (methods, body cap), refusals counted, never a body logged."""
from __future__ import annotations

import io
import logging

import pytest

from edge.routes import Capped, RefusalLog, Router
from tests.clock import FakeClock

CAP = 1024


class Untouchable(io.RawIOBase):
    """A request body that must not be read: reading it fails the test."""

    def read(self, size: int = -1) -> bytes:
        raise AssertionError("the body was read")

    readline = read


def call(app, method: str, path: str, body: bytes | io.RawIOBase = b"", **environ) -> tuple[str, dict, bytes]:
    stream = body if isinstance(body, io.RawIOBase) else io.BytesIO(body)
    env = {"REQUEST_METHOD": method, "PATH_INFO": path, "wsgi.input": stream, **environ}
    if isinstance(body, bytes) and body:
        env.setdefault("CONTENT_LENGTH", str(len(body)))
    got: dict = {}

    def start_response(status, headers, exc_info=None):
        got["status"], got["headers"] = status, dict(headers)

    out = b"".join(app(env, start_response))
    return got["status"], got["headers"], out


def echo(environ, start_response):
    """An application that answers with what it could read of the body (and the method it saw)."""
    data = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [environ["REQUEST_METHOD"].encode() + b" " + data]


@pytest.fixture
def router() -> Router:
    r = Router(max_body=CAP, refusals=RefusalLog(clock=FakeClock()))
    r.add("/slack/events", echo, methods=("POST",))
    r.add("/healthz", echo, methods=("GET",))
    return r


@pytest.mark.parametrize("method", ["TRACE", "PUT", "DELETE", "OPTIONS", "POST", "PATCH", "CONNECT"])
def test_healthz_answers_get_and_head_only(router, method):
    status, headers, _ = call(router, method, "/healthz")
    assert status.startswith("405") and headers["Allow"] == "GET, HEAD"
    assert call(router, "GET", "/healthz")[0] == "200 OK" and call(router, "HEAD", "/healthz")[0] == "200 OK"


def test_slack_events_take_post_only_and_unknown_paths_are_404(router):
    assert call(router, "GET", "/slack/events")[1]["Allow"] == "POST"
    assert call(router, "POST", "/slack/events", b"x=1")[2] == b"POST x=1"
    assert call(router, "GET", "/admin")[0].startswith("404") and call(router, "POST", "/")[0].startswith("404")


def test_a_body_over_the_cap_is_refused_from_its_length_without_reading_it(router):
    status, _, _ = call(router, "POST", "/slack/events", Untouchable(), CONTENT_LENGTH=str(400 * 2**20))
    assert status.startswith("413")
    assert call(router, "POST", "/slack/events", b"a" * CAP)[0] == "200 OK"  # the cap itself is allowed
    assert call(router, "POST", "/slack/events", Untouchable(), CONTENT_LENGTH="12x")[0].startswith("400")


def test_an_unsized_chunked_body_is_refused_and_an_application_never_reads_past_the_length(router):
    status, _, _ = call(router, "POST", "/slack/events", Untouchable(), HTTP_TRANSFER_ENCODING="chunked")
    assert status.startswith("411")
    # A client declaring 3 bytes and sending more: the application sees the 3.
    assert call(router, "POST", "/slack/events", b"abcdef", CONTENT_LENGTH="3")[2] == b"POST abc"
    capped = Capped(io.BytesIO(b"line1\nline2\n"), 8)
    assert list(capped) == [b"line1\n", b"li"] and capped.read() == b""


def test_a_route_added_later_inherits_every_guard(router):
    """The one line another route takes (e.g. a webhook): methods and the body cap come with it."""
    router.add("/quickbooks/webhooks", echo, methods=("POST",), max_body=64)
    assert call(router, "DELETE", "/quickbooks/webhooks")[0].startswith("405")
    assert call(router, "POST", "/quickbooks/webhooks", b"a" * 65)[0].startswith("413")
    assert call(router, "POST", "/quickbooks/webhooks", b"a" * 64)[0] == "200 OK"


def test_refusals_are_counted_in_at_most_one_line_a_minute_without_their_bodies(caplog):
    clock = FakeClock()
    router = Router(max_body=CAP, refusals=RefusalLog(every=60, clock=clock))
    router.add("/slack/events", lambda env, sr: (sr("401 Unauthorized", []), [b""])[1], methods=("POST",))
    caplog.set_level(logging.DEBUG, logger="edge.routes")
    secret = b"amount=4321.17&client=Zanzibar"
    for _ in range(500):
        call(router, "POST", "/slack/events", secret)
    call(router, "POST", "/slack/events", Untouchable(), CONTENT_LENGTH=str(CAP + 1))
    clock.advance(61)
    call(router, "PUT", "/slack/events")
    lines = [r.getMessage() for r in caplog.records if r.name == "edge.routes"]
    assert len(lines) == 2, lines
    assert lines[0] == "refused 1 HTTP request(s) since the last report: /slack/events 401 ×1"
    assert lines[1] == ("refused 501 HTTP request(s) since the last report: /slack/events 401 ×499, "
                        "/slack/events 405 ×1, /slack/events 413 ×1")
    assert not any("Zanzibar" in line or "4321" in line for line in lines)
