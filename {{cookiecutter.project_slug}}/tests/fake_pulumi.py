"""A stand-in for the Pulumi CLI, put on PATH as `pulumi` by tests/test_acceptance.py.

It records every command line (one JSON list per line in $FAKE_PULUMI_DIR/calls.jsonl), keeps the stacks that exist
in $FAKE_PULUMI_DIR/stacks.json (what `stack init` adds and `stack rm` removes, as `stack ls --json` lists them), and
answers `stack output --json` with $FAKE_PULUMI_DIR/outputs.json, shaped like a real deployment's outputs (once an
`up` finished).
Failures and pauses are injected by environment:
  FAKE_PULUMI_FAIL=<words>[#n]  the n-th command (default: the first) starting with these words exits 255
  FAKE_PULUMI_PAUSE=<words>=<s>,... commands starting with these words write "<words>.started" and wait s seconds;
                                a SIGINT meanwhile is recorded ("<words> interrupted") and ends the command with 255,
                                as Pulumi's own cancel does
  FAKE_PULUMI_GRACEFUL=1        a first SIGINT during a pause is only recorded (Pulumi finishing the operations in
                                flight); a second one ends the command ("<words> hard-cancelled"); a pause that runs
                                out then records "<words> finished"
Config is modelled per stack in $FAKE_PULUMI_DIR/config/<stack>.json (`stack init --copy-config-from`, `config cp`,
`config set`); each `up` appends the config it saw to up-configs.jsonl. `stack export` prints export.json (or an
empty deployment).
"""

import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

STATE = Path(os.environ["FAKE_PULUMI_DIR"])


def record(entry: list[str]) -> None:
    with (STATE / "calls.jsonl").open("a") as calls:
        calls.write(json.dumps(entry) + "\n")


def stacks() -> list[dict[str, Any]]:
    path = STATE / "stacks.json"
    return list(json.loads(path.read_text())) if path.exists() else []


def save(found: list[dict[str, Any]]) -> None:
    (STATE / "stacks.json").write_text(json.dumps(found))


def stack_of(args: list[str]) -> str:
    return args[args.index("--stack") + 1] if "--stack" in args else ""


def injected_failure(command: str) -> bool:
    spec = os.environ.get("FAKE_PULUMI_FAIL", "")
    if not spec:
        return False
    words, _, nth = spec.partition("#")
    if not command.startswith(words):
        return False
    seen = sum(
        1 for line in (STATE / "calls.jsonl").read_text().splitlines() if " ".join(json.loads(line)).startswith(words)
    )
    return seen == int(nth or 1)


def pause(words: str, seconds: float) -> None:
    interrupts = []

    def interrupted(*_: object) -> None:
        interrupts.append(1)
        if len(interrupts) == 1:
            record([f"{words} interrupted"])
            if os.environ.get("FAKE_PULUMI_GRACEFUL"):
                return
        else:
            record([f"{words} hard-cancelled"])
        sys.exit(255)

    signal.signal(signal.SIGINT, interrupted)
    (STATE / f"{words}.started").write_text("")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
    if os.environ.get("FAKE_PULUMI_GRACEFUL"):
        record([f"{words} finished"])


def config(stack: str) -> dict[str, str]:
    path = STATE / "config" / f"{stack}.json"
    return dict(json.loads(path.read_text())) if path.exists() else {}


def save_config(stack: str, values: dict[str, str]) -> None:
    (STATE / "config").mkdir(exist_ok=True)
    (STATE / "config" / f"{stack}.json").write_text(json.dumps(values))


def configure(args: list[str]) -> None:
    """`config cp --stack S --dest D` (S's values over D's) and `config set key value --stack S`."""
    if args[1] == "cp":
        destination = args[args.index("--dest") + 1]
        save_config(destination, {**config(destination), **config(stack_of(args))})
    elif args[1] == "set":
        save_config(stack_of(args), {**config(stack_of(args)), args[2]: args[3]})


def main() -> int:
    args = sys.argv[1:]
    command = " ".join(args)
    record(args)
    for spec in filter(None, os.environ.get("FAKE_PULUMI_PAUSE", "").split(",")):
        words, _, seconds = spec.partition("=")
        if command.startswith(words):
            pause(words, float(seconds))
    if injected_failure(command):
        print(f"error: injected failure of `pulumi {command}`", file=sys.stderr)
        return 255
    if args[:2] == ["stack", "init"]:
        save([*stacks(), {"name": args[2], "current": False, "updateInProgress": False, "resourceCount": 0}])
        if "--copy-config-from" in args:
            save_config(args[2], config(args[args.index("--copy-config-from") + 1]))
    elif args[0] == "config":
        configure(args)
    elif args[:2] == ["stack", "export"]:
        exported = STATE / "export.json"
        print(exported.read_text() if exported.exists() else json.dumps({"version": 3, "deployment": {}}))
    elif args[:2] == ["stack", "rm"]:
        save([stack for stack in stacks() if stack["name"] != args[2]])
    elif args[:2] == ["stack", "ls"]:
        print(json.dumps(stacks()))
    elif args[:2] == ["stack", "output"]:  # a stack no `up` finished has no outputs
        deployed = any(stack["name"] == stack_of(args) and stack.get("resourceCount") for stack in stacks())
        print((STATE / "outputs.json").read_text() if deployed else "{}")
    elif args[:1] in (["up"], ["destroy"]):
        name = stack_of(args)
        if args[0] == "up":
            with (STATE / "up-configs.jsonl").open("a") as seen:
                seen.write(json.dumps({"stack": name, "config": config(name)}) + "\n")
        save(
            [
                {**stack, "resourceCount": 60 if args[0] == "up" else 0} if stack["name"] == name else stack
                for stack in stacks()
            ]
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
