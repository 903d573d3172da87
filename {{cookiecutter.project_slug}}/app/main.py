"""The web service: names the replica that answered, and answers the load balancer's health checks."""

import asyncio
import json
import os
import socket
import threading
import urllib.request
from urllib.parse import urlsplit

import tracing
from fastapi import FastAPI, Response

MAX_DELAY_MS = 5000


def replica_id() -> str:
    """REPLICA_ID if set, else the ECS task id (from the task metadata endpoint) on ECS, else the hostname."""
    if os.environ.get("REPLICA_ID"):
        return os.environ["REPLICA_ID"]
    metadata_uri = os.environ.get("ECS_CONTAINER_METADATA_URI_V4")
    if metadata_uri:
        try:
            with urllib.request.urlopen(f"{metadata_uri}/task", timeout=2) as response:
                return str(json.load(response)["TaskARN"]).rsplit("/", 1)[-1]
        except (OSError, ValueError, KeyError):
            pass
    return socket.gethostname()


SERVICE_NAME = os.environ.get("SERVICE_NAME", "app")
# The stack's release_label: tells one release's answers from another's (`make acceptance` counts them).
RELEASE_LABEL = os.environ.get("RELEASE_LABEL", "")
REPLICA = replica_id()
app = FastAPI(title=SERVICE_NAME)
# Set by server.py on SIGTERM: the health check fails from then on, so the load balancer takes this replica out.
draining = threading.Event()


@app.get("/")
async def index(delay_ms: int = 0) -> dict[str, str]:
    """Which replica, of which release, answered. `delay_ms` (at most 5 s) simulates slow work, to watch draining
    during a deploy."""
    await asyncio.sleep(min(max(delay_ms, 0), MAX_DELAY_MS) / 1000)
    return {"service": SERVICE_NAME, "replica": REPLICA, "release": RELEASE_LABEL}


async def health(response: Response) -> dict[str, str]:
    if draining.is_set():
        response.status_code = 503
        return {"status": "draining"}
    return {"status": "ok"}


# The load balancer may check "/health?full=1": routes match the path alone, so the query is left to the handler.
HEALTH_PATH = urlsplit(os.environ.get("HEALTH_CHECK_PATH", "/health")).path
app.add_api_route(HEALTH_PATH, health, methods=["GET"])
# Traces, when the stack turns them on (enable_tracing); health checks never make one.
tracing.instrument(app, untraced_paths=[HEALTH_PATH])
