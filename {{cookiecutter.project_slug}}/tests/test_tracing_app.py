"""The app with tracing on, run for real as a process, exporting OTLP to a receiver this test starts.

No OpenTelemetry collector binary is packaged on PyPI, npm or Debian, so the receiver is OTLP/HTTP as the protocol
specifies it: the reference protobuf messages (opentelemetry-proto's ExportTraceServiceRequest and Response) served
at /v1/traces by a real HTTP server. One app process serves every request below; the assertions read what arrived.
"""

import json
import logging
import random
import signal
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import tracing
from fastapi import FastAPI
from opentelemetry import propagate, trace
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags
from test_app import running_app

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
ALB_ROOT = "1-67891233-abcdef012345678912345678"  # the ALB's X-Amzn-Trace-Id Root: no parent
XRAY_PARENT = ("1-5759e988-bd862e3fe1be46a994272793", "53995c3f42cd8ad8")  # a caller instrumented for X-Ray


@contextmanager
def otlp_receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], Span]]]]:
    """An OTLP/HTTP trace receiver on a free port: every span received, with its resource's attributes."""
    received: list[tuple[dict[str, str], Span]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = ExportTraceServiceRequest.FromString(self.rfile.read(int(self.headers["Content-Length"])))
            for resource_spans in request.resource_spans:
                resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                received.extend((resource, span) for scope in resource_spans.scope_spans for span in scope.spans)
            body = ExportTraceServiceResponse().SerializeToString()
            ok = self.path == "/v1/traces" and self.headers["Content-Type"] == "application/x-protobuf"
            self.send_response(200 if ok else 404)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", received
    finally:
        server.shutdown()
        server.server_close()


def get(url: str, **headers: str) -> int:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as response:
        return int(response.status)


def attributes(span: Span) -> dict[str, Any]:
    return {a.key: a.value.string_value or a.value.int_value for a in span.attributes}


@pytest.fixture(scope="module")
def traced() -> Iterator[tuple[list[tuple[dict[str, str], Span]], list[dict[str, Any]]]]:
    """One app process with tracing on: the requests below, then the spans received and the app's log lines."""
    with otlp_receiver() as (endpoint, received):
        environment = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_SERVICE_NAME": "hello",
            "OTEL_RESOURCE_ATTRIBUTES": "cloud.provider=aws,cloud.platform=aws_ecs",
            # No export on the batch timer: every span must arrive through the flush at shutdown (uvicorn ends a
            # SIGTERM by re-raising it, so exit handlers never run and unflushed spans would be lost).
            "OTEL_BSP_SCHEDULE_DELAY": "600000",
            "TRACING_SAMPLE_PERCENT": "100",
            "HEALTH_CHECK_PATH": "/health?full=1",
        }
        with running_app(**environment) as (process, base):  # it polled the health check until it answered
            assert get(base + "/health?full=1") == 200
            assert get(base + "/?delay_ms=150", traceparent=f"00-{CALLER_TRACE}-{CALLER_SPAN}-01") == 200
            assert get(base + "/", **{"X-Amzn-Trace-Id": f"Root={ALB_ROOT}"}) == 200
            xray_root, xray_parent = XRAY_PARENT
            assert get(base + "/", **{"X-Amzn-Trace-Id": f"Root={xray_root};Parent={xray_parent};Sampled=1"}) == 200
            time.sleep(0.2)
            assert received == [], "spans were exported before shutdown"
            process.send_signal(signal.SIGTERM)
            output = process.communicate(timeout=10)[0]
        lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
        yield list(received), lines


def by_trace(received: list[tuple[dict[str, str], Span]], trace_hex: str) -> Span:
    [span] = [span for _, span in received if span.trace_id.hex() == trace_hex]
    return span


def test_a_request_is_one_server_span_with_its_route_status_and_duration(traced: Any) -> None:
    received, _ = traced
    span = by_trace(received, CALLER_TRACE)
    assert span.name == "GET /"
    assert span.kind == Span.SPAN_KIND_SERVER
    found = attributes(span)
    assert found["http.route"] == "/"
    assert found.get("http.response.status_code", found.get("http.status_code")) == 200
    assert 0.15 <= (span.end_time_unix_nano - span.start_time_unix_nano) / 1e9 < 5  # it slept 150 ms
    resource = received[0][0]
    assert resource["service.name"] == "hello"
    assert resource["cloud.platform"] == "aws_ecs"


def test_an_incoming_traceparent_becomes_the_parent(traced: Any) -> None:
    span = by_trace(traced[0], CALLER_TRACE)
    assert span.parent_span_id.hex() == CALLER_SPAN


def test_the_albs_root_trace_id_becomes_the_requests_trace(traced: Any) -> None:
    """The ALB sends Root only: the request's span starts a trace with that ID (and no parent)."""
    span = by_trace(traced[0], ALB_ROOT.replace("1-", "").replace("-", ""))
    assert span.parent_span_id == b""


def test_an_x_ray_parent_becomes_the_parent(traced: Any) -> None:
    xray_root, xray_parent = XRAY_PARENT
    span = by_trace(traced[0], xray_root.replace("1-", "").replace("-", ""))
    assert span.parent_span_id.hex() == xray_parent


def test_the_spans_are_sent_when_the_app_stops(traced: Any) -> None:
    """None was exported before the SIGTERM (the fixture checks): all three arrived through the flush at shutdown."""
    received, _ = traced
    assert sorted(span.name for _, span in received) == ["GET /"] * 3


def test_health_checks_are_not_traced(traced: Any) -> None:
    received, lines = traced
    assert len(received) == 3, [span.name for _, span in received]
    health = [line for line in lines if '"GET /health?full=1 HTTP/1.1" 200' in line["message"]]
    assert len(health) == 2 and all("trace_id" not in line for line in health)


def test_log_lines_carry_the_trace_id_of_their_request(traced: Any) -> None:
    received, lines = traced
    access = [line for line in lines if '"GET /' in line["message"] and "/health" not in line["message"]]
    assert len(access) == 3
    spans = {span.trace_id.hex(): span for _, span in received}
    for line in access:
        span = spans[line["trace_id"]]
        assert line["span_id"] == span.span_id.hex()
        assert line["xray_trace_id"] == f"1-{line['trace_id'][:8]}-{line['trace_id'][8:]}"


def test_with_tracing_off_nothing_is_instrumented(monkeypatch: pytest.MonkeyPatch) -> None:
    """No OTEL_EXPORTER_OTLP_ENDPOINT (the stack sets none with enable_tracing=false): no middleware, no exporter, no
    trace fields in log lines (tests/test_app.py runs the app so)."""
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    app, factory = FastAPI(), logging.getLogRecordFactory()
    stack = app.build_middleware_stack
    tracing.instrument(app, untraced_paths=["/health"])
    assert app.build_middleware_stack == stack
    assert logging.getLogRecordFactory() is factory


def remote_parent(sampled: bool) -> Any:
    """The context a caller's traceparent gives the request's span: its trace, its span, its sampled flag."""
    flags = TraceFlags(TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT)
    caller = SpanContext(int(CALLER_TRACE, 16), int(CALLER_SPAN, 16), is_remote=True, trace_flags=flags)
    return trace.set_span_in_context(NonRecordingSpan(caller))


def sampled_share(percent: float, parent: Any = None, requests: int = 2000) -> float:
    sampler = tracing.request_sampler(percent, random.Random(25))  # noqa: S311 (seeded: the same draws every run)
    trace_id = int(CALLER_TRACE, 16)  # the same trace ID every time: the draw decides, not the ID
    decisions = [
        sampler.should_sample(parent, trace_id, "GET /").decision is Decision.RECORD_AND_SAMPLE for _ in range(requests)
    ]
    return sum(decisions) / requests


def test_the_sampled_share_is_tracing_sample_percent_of_requests() -> None:
    assert sampled_share(0) == 0
    assert 0.04 <= sampled_share(5) <= 0.06
    assert sampled_share(100) == 1


def test_a_callers_sampled_flag_does_not_force_recording() -> None:
    """A client on the internet may send traceparent ...-01 (or Sampled=1) on every request: the share stays the
    stack's, and a caller that asked for no sampling cannot hide a request from it either."""
    assert sampled_share(0, remote_parent(sampled=True)) == 0
    assert 0.04 <= sampled_share(5, remote_parent(sampled=True)) <= 0.06
    assert sampled_share(100, remote_parent(sampled=False)) == 1


def test_spans_inside_a_request_follow_its_decision() -> None:
    """A sampled request's child spans (its httpx calls) are all kept, so its trace is whole; nothing of a dropped
    one is."""
    sampler = tracing.request_sampler(50, random.Random(25))  # noqa: S311
    for flags in (TraceFlags.SAMPLED, TraceFlags.DEFAULT):
        local = SpanContext(int(CALLER_TRACE, 16), 1, is_remote=False, trace_flags=TraceFlags(flags))
        parent = trace.set_span_in_context(NonRecordingSpan(local))
        decisions = {
            sampler.should_sample(parent, local.trace_id, "GET").decision is Decision.RECORD_AND_SAMPLE
            for _ in range(50)
        }
        assert decisions == {flags == TraceFlags.SAMPLED}


@contextmanager
def header_recorder() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A local HTTP server answering 204 and keeping each request's headers."""
    seen: list[dict[str, str]] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append({key.lower(): value for key, value in self.headers.items()})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()  # a quick shutdown
    try:
        yield f"http://127.0.0.1:{server.server_port}/downstream", seen
    finally:
        server.shutdown()
        server.server_close()


def test_an_outgoing_httpx_call_is_a_client_span_and_carries_the_trace_on() -> None:
    """The app's provider and propagator with the httpx instrumentation, in this process (undone afterwards): a call
    inside a request becomes a client span of that request, and the callee gets both trace headers naming it."""
    provider, exported = tracing.tracer_provider(100), InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    instrumentor, textmap = HTTPXClientInstrumentor(), propagate.get_global_textmap()
    with header_recorder() as (url, seen):
        propagate.set_global_textmap(tracing.propagator())
        instrumentor.instrument(tracer_provider=provider)
        try:
            with provider.get_tracer("test").start_as_current_span("GET /", kind=SpanKind.SERVER):
                assert httpx.get(url).status_code == 204
        finally:
            instrumentor.uninstrument()
            propagate.set_global_textmap(textmap)
    client, server = exported.get_finished_spans()
    assert (client.kind, server.kind) == (SpanKind.CLIENT, SpanKind.SERVER)
    assert client.parent is not None and client.parent.span_id == server.context.span_id
    trace_hex, span_hex = f"{client.context.trace_id:032x}", f"{client.context.span_id:016x}"
    [headers] = seen
    assert headers["traceparent"] == f"00-{trace_hex}-{span_hex}-01"
    assert headers["x-amzn-trace-id"] == f"Root=1-{trace_hex[:8]}-{trace_hex[8:]};Parent={span_hex};Sampled=1"
