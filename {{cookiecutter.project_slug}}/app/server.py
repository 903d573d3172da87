"""Runs the app under uvicorn with JSON logs, and on SIGTERM drains out of the load balancer before shutting down."""

import json
import logging
import os
import signal
import threading
from types import FrameType

import uvicorn
from main import app, draining


class JsonFormatter(logging.Formatter):
    """One JSON object per line, so CloudWatch Logs Insights can query the fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "trace", {}))  # the request's trace and span IDs, with tracing on (tracing.py)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": JsonFormatter}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}},
    "loggers": {
        "uvicorn": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        "uvicorn.access": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": ["stdout"], "level": "INFO"},
}


class DrainingServer(uvicorn.Server):
    """A SIGTERM can arrive while the load balancer still sends traffic here (a Fargate Spot reclaim does not
    deregister the task first). So on SIGTERM the health check fails at once, requests keep being served for
    `drain_seconds` (long enough for the load balancer's failing checks to take this replica out of rotation),
    and only then does uvicorn stop accepting and finish in-flight requests. A second signal skips the wait."""

    def __init__(self, config: uvicorn.Config, drain_seconds: float) -> None:
        super().__init__(config)
        self.drain_seconds = drain_seconds

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig == signal.SIGTERM and self.drain_seconds > 0 and not draining.is_set():
            draining.set()
            logging.getLogger("uvicorn.error").info(
                "SIGTERM: failing health checks, serving for %g s more until the load balancer has drained us",
                self.drain_seconds,
            )
            timer = threading.Timer(self.drain_seconds, super().handle_exit, (sig, frame))
            timer.daemon = True
            timer.start()
            return
        super().handle_exit(sig, frame)


def main() -> None:
    # After the drain, uvicorn stops accepting and finishes in-flight requests for up to GRACEFUL_SHUTDOWN_SECONDS;
    # the stack keeps drain + graceful shutdown below the container's stopTimeout, so ECS never has to SIGKILL.
    config = uvicorn.Config(
        app,
        host=os.environ.get("HOST", "0.0.0.0"),
        port=int(os.environ.get("PORT", "8000")),
        log_config=LOG_CONFIG,
        timeout_graceful_shutdown=int(os.environ.get("GRACEFUL_SHUTDOWN_SECONDS", "20")),
        # Idle connections stay open longer than the ALB's idle timeout (the stack passes it; 65 = 60 + 5), so the
        # ALB never reuses a connection the app has just closed.
        timeout_keep_alive=int(os.environ.get("KEEP_ALIVE_SECONDS", "65")),
        proxy_headers=True,
        forwarded_allow_ips="*",
    )
    DrainingServer(config, drain_seconds=float(os.environ.get("SHUTDOWN_DRAIN_SECONDS", "0"))).run()


if __name__ == "__main__":
    main()
