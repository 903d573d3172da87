# OpenTelemetry is imported inside the functions that run only with tracing on: off, the app loads none of it.
# ruff: noqa: PLC0415
"""Traces (the stack's enable_tracing): OpenTelemetry spans for every request, exported over OTLP to the collector.

Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set (the stack sets it to the ADOT collector sidecar, which sends to
X-Ray): then nothing of OpenTelemetry is even imported. On:
- a server span per request (FastAPI's instrumentation: name "GET /route", route, status, duration), none for the
  load balancer's health checks; outgoing calls made with httpx get client spans and carry the trace on;
- the trace context of the caller is honoured: W3C `traceparent`, and X-Ray's `X-Amzn-Trace-Id`. The ALB adds that
  header to every request with only a `Root` (no parent), which X-Ray's propagator ignores: the request's trace then
  takes the ALB's root ID, so the ALB's access log line and the app's spans share one trace;
- TRACING_SAMPLE_PERCENT of the requests are sampled, decided here by a random draw per request: a caller's sampled
  flag (traceparent's -01, X-Amzn-Trace-Id's Sampled=1) or a trace ID it picked cannot raise the share (and with it
  the X-Ray bill); the request still joins the caller's trace;
- every log line written while a request is served carries its trace and span IDs (server.py's JSON formatter).
"""

import logging
import os
import random
import re
from collections.abc import Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for annotations only: nothing of OpenTelemetry is loaded with tracing off
    from opentelemetry.propagators.composite import CompositePropagator
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.sampling import Sampler, SamplingResult

ALB_TRACE_HEADER = b"x-amzn-trace-id"
# The ALB's header: "Root=1-<8 hex epoch>-<24 hex>", possibly after "Self=..." when the caller sent one already.
ALB_ROOT = re.compile(r"(?:^|;)\s*Root=1-([0-9a-fA-F]{8})-([0-9a-fA-F]{24})\s*(?:;|$)")
# The trace ID a request's first span takes when the ALB started its trace (read by the ID generator).
alb_trace_id: ContextVar[int | None] = ContextVar("alb_trace_id", default=None)


def enabled() -> bool:
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))


def alb_root_trace_id(header: str) -> int | None:
    """The trace ID in an ALB-style X-Amzn-Trace-Id (Root without Parent), or None."""
    if "Parent=" in header:
        return None  # an X-Ray-instrumented caller: its propagator takes the parent
    match = ALB_ROOT.search(header)
    return int(match[1] + match[2], 16) if match else None


class AlbTraceRoot:
    """ASGI middleware, outside OpenTelemetry's: notes the ALB's root trace ID for the request's first span."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        headers = dict(scope.get("headers") or []) if scope["type"] == "http" else {}
        token = alb_trace_id.set(alb_root_trace_id(headers.get(ALB_TRACE_HEADER, b"").decode("latin-1")))
        try:
            await self.app(scope, receive, send)
        finally:
            alb_trace_id.reset(token)


def excluded_paths_pattern(paths: list[str]) -> str:
    """OpenTelemetry's excluded_urls (comma-separated regexes searched in the URL) for exactly these paths."""
    return ",".join(rf"^[a-z]+://[^/]+{re.escape(path)}(\?|$)" for path in paths)


def trace_fields() -> dict[str, object]:
    """The current span's IDs for a log line: W3C trace ID, span ID, sampled, and the trace ID as X-Ray shows it."""
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    trace_hex = f"{context.trace_id:032x}"
    return {
        "trace_id": trace_hex,
        "span_id": f"{context.span_id:016x}",
        "trace_sampled": context.trace_flags.sampled,
        "xray_trace_id": f"1-{trace_hex[:8]}-{trace_hex[8:]}",
    }


def request_sampler(percent: float, draws: random.Random | None = None) -> "Sampler":
    """The stack's own sampling: `percent` of the requests, by a random draw for each, whatever the caller asked;
    the spans a request makes inside the app follow its decision, so a sampled trace is whole."""
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    source = draws or random.Random()  # noqa: S311 (a sampling draw, not a secret)

    class EachRequest(TraceIdRatioBased):
        """TraceIdRatioBased's rule applied to a fresh random number instead of the trace ID, which callers choose
        (a traceparent's, or an X-Amzn-Trace-Id Root the ALB keeps)."""

        def should_sample(self, parent_context: Any, trace_id: int, *args: Any, **kwargs: Any) -> "SamplingResult":
            return super().should_sample(parent_context, source.getrandbits(64), *args, **kwargs)

    own = EachRequest(percent / 100)
    return ParentBased(root=own, remote_parent_sampled=own, remote_parent_not_sampled=own)


def tracer_provider(percent: float) -> "TracerProvider":
    """The app's tracer provider: its sampling, X-Ray-style trace IDs (or the ALB's), service.name and more from
    OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES; no exporter yet."""
    from opentelemetry.sdk.extension.aws.trace import AwsXRayIdGenerator
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    class AlbRootIdGenerator(AwsXRayIdGenerator):
        """X-Ray-style trace IDs (epoch seconds first, as X-Ray requires), or the ALB's own for its requests."""

        def generate_trace_id(self) -> int:
            return alb_trace_id.get() or super().generate_trace_id()

    return TracerProvider(
        resource=Resource.create(), sampler=request_sampler(percent), id_generator=AlbRootIdGenerator()
    )


def propagator() -> "CompositePropagator":
    """Trace context in and out: X-Ray's header and W3C traceparent (the last one found wins: traceparent)."""
    from opentelemetry.propagators.aws import AwsXRayPropagator
    from opentelemetry.propagators.composite import CompositePropagator
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    return CompositePropagator([AwsXRayPropagator(), TraceContextTextMapPropagator()])


def instrument(app: Any, untraced_paths: list[str]) -> None:
    """Trace `app`'s requests (except `untraced_paths`) and httpx calls, if OTEL_EXPORTER_OTLP_ENDPOINT is set."""
    if not enabled():
        return
    from opentelemetry import propagate, trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = tracer_provider(float(os.environ.get("TRACING_SAMPLE_PERCENT", "5")))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))  # endpoint from the environment
    trace.set_tracer_provider(provider)
    propagate.set_global_textmap(propagator())

    FastAPIInstrumentor.instrument_app(
        app, excluded_urls=excluded_paths_pattern(untraced_paths), exclude_spans=["receive", "send"]
    )
    HTTPXClientInstrumentor().instrument()
    instrumented = app.build_middleware_stack
    app.build_middleware_stack = lambda: AlbTraceRoot(instrumented())

    # uvicorn ends a SIGTERM by re-raising it, so exit handlers never run: flush the last spans at lifespan's end.
    serve = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(served: Any) -> Any:
        async with serve(served) as state:
            yield state
        provider.shutdown()

    app.router.lifespan_context = lifespan

    factory = logging.getLogRecordFactory()

    def record_with_trace(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        record.trace = trace_fields()
        return record

    logging.setLogRecordFactory(record_with_trace)
