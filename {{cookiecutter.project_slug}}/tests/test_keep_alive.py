"""The app's keep-alive against the ALB's idle timeout: both from the one stack setting, the app's always longer."""

import http.client
import json
import time

from test_app import running_app

from conftest import ROOT, Deployment, deploy
from infra.validation import parse_settings

IDLE_TIMEOUT = 6  # past uvicorn's own 5 s default, yet short: the rule is the same at the default 60


def container_environment(deployment: Deployment) -> dict[str, str]:
    [container] = json.loads(deployment.one("aws:ecs/taskDefinition:TaskDefinition").inputs["containerDefinitions"])
    return {entry["name"]: entry["value"] for entry in container["environment"]}


def test_alb_idle_timeout_is_the_setting_and_the_app_keeps_connections_longer() -> None:
    deployment = deploy(alb_idle_timeout_seconds=120)
    alb = deployment.one("aws:lb/loadBalancer:LoadBalancer").inputs
    assert alb["idleTimeout"] == 120
    assert int(container_environment(deployment)["KEEP_ALIVE_SECONDS"]) > 120


def test_app_started_as_the_task_keeps_an_idle_connection_open_past_the_alb_idle_timeout() -> None:
    """The ALB may reuse a connection until its idle timeout: the app must not have closed it by then."""
    environment = container_environment(deploy(alb_idle_timeout_seconds=IDLE_TIMEOUT))
    environment.pop("PORT")  # the test picks a free port; the rest is the task definition's environment
    with running_app(**environment) as (_, base):
        host, port = base.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=5)
        statuses = []
        for wait in (0, IDLE_TIMEOUT + 1):  # then idle as long as the ALB still counts the connection open
            time.sleep(wait)
            connection.request("GET", environment["HEALTH_CHECK_PATH"])
            response = connection.getresponse()  # RemoteDisconnected if the app closed the connection first
            statuses.append((response.status, response.read()))
            if not wait:
                first_socket = connection.sock
        assert connection.sock is first_socket, "the request needed a new connection"
        connection.close()
    assert statuses == [(200, b'{"status":"ok"}')] * 2


def test_app_default_keep_alive_is_the_stack_default() -> None:
    """`make run` and compose start the app without the stack's environment: its default follows the same rule."""
    server = (ROOT / "app" / "server.py").read_text()
    assert f'"KEEP_ALIVE_SECONDS", "{parse_settings({}).app_keep_alive_seconds}"' in server
