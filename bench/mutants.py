"""Mutation check: one-line changes to the generated program that break a real deployment must fail its tests.

    .venv/bin/python bench/mutants.py [--jobs 2] [--only SUBSTRING]

Bakes the template once with its defaults; then, for each mutant below, copies the bake, replaces one source line
(matched exactly, after indentation, and exactly once: when a refactor moves or rewords a line this stops with an
error naming it, so the list is updated with the code), runs the generated tests that should catch the change, and
counts the mutant killed when they fail. Prints each result, "mutants killed N/M" and the survivors; exits 1 when a
mutant survives, 2 when a mutation no longer applies or its tests cannot run.
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str  # in the generated project
    line: str  # the exact source line, without its indentation
    replacement: str
    tests: tuple[str, ...]  # the test files that must catch it, run in the mutated project
    breaks: str  # what a real deployment would suffer


MUTANTS = [
    Mutant(
        "certificate used before validation",
        "infra/domain.py",
        "self.arn = self.validation.certificate_arn",
        "self.arn = self.certificate.arn",
        ("tests/test_options.py",),
        "the HTTPS listener is created with a certificate still pending validation: `pulumi up` fails",
    ),
    Mutant(
        "validation waits on the record's name, not its fqdn",
        "infra/domain.py",
        "validation_record_fqdns=[self.validation_record.fqdn],",
        "validation_record_fqdns=[self.validation_record.name],",
        ("tests/test_options.py",),
        "the validation is handed the record's input name instead of the FQDN Route53 reports",
    ),
    Mutant(
        "zone looked up by the domain, not the zone",
        "infra/stack.py",
        "zone_id = hosted_zone_id(settings.zone_name) if settings.domain_name else None",
        "zone_id = hosted_zone_id(settings.domain_name) if settings.domain_name else None",
        ("tests/test_options.py",),
        "no hosted zone is named like the domain (api.example.com lives in example.com): the lookup fails",
    ),
    Mutant(
        "chaos lists every task of the cluster",
        "scripts/verify.py",
        'cluster=target.cluster, serviceName=target.service, desiredStatus="RUNNING"',
        'cluster=target.cluster, desiredStatus="RUNNING"',
        ("tests/test_verify.py",),
        "verify.py --chaos may stop another service's task and count other services' tasks as healed",
    ),
    Mutant(
        "chaos counts no failed request",
        "scripts/verify.py",
        "failures += not answers(target.url)",
        "answers(target.url)",
        ("tests/test_verify.py",),
        "verify.py --chaos reports 0 failed requests whatever the service answered",
    ),
    Mutant(
        "health check on /",
        "infra/load_balancer.py",
        '"path": settings.health_check_path,',
        '"path": "/",',
        ("tests/test_stack.py",),
        "the ALB checks a path the app may not answer cheaply (or at all): healthy tasks are drained",
    ),
    Mutant(
        "deregistration delay left at the provider's 300 s",
        "infra/load_balancer.py",
        "deregistration_delay=settings.deregistration_delay_seconds,",
        "deregistration_delay=300,",
        ("tests/test_stack.py",),
        "every rolling deploy waits 5 minutes per batch of old tasks",
    ),
    Mutant(
        "circuit breaker without rollback",
        "infra/service.py",
        'deployment_circuit_breaker={"enable": True, "rollback": True},',
        'deployment_circuit_breaker={"enable": True, "rollback": False},',
        ("tests/test_stack.py",),
        "a release whose tasks never get healthy stops, but the old version is not put back",
    ),
    Mutant(
        "every zone routes through the first NAT gateway",
        "infra/network.py",
        'egress = [{"cidr_block": "0.0.0.0/0", "nat_gateway_id": self.nat_gateways[index % nat_count].id}]',
        'egress = [{"cidr_block": "0.0.0.0/0", "nat_gateway_id": self.nat_gateways[0].id}]',
        ("tests/test_stack.py",),
        "losing one zone cuts every task's outbound traffic: the per-zone NAT gateways are paid for nothing",
    ),
    Mutant(
        "request-count label with its parts swapped",
        "infra/autoscaling.py",
        'resource_label=pulumi.Output.concat(alb.arn_suffix, "/", target_group.arn_suffix),',
        'resource_label=pulumi.Output.concat(target_group.arn_suffix, "/", alb.arn_suffix),',
        ("tests/test_options.py",),
        "Application Auto Scaling rejects the policy (the label must be <lb suffix>/<target group suffix>)",
    ),
    Mutant(
        "writable root filesystem",
        "infra/task.py",
        '"readonlyRootFilesystem": not settings.enable_exec,',
        '"readonlyRootFilesystem": False,',
        ("tests/test_security.py",),
        "Security Hub ECS.5 fails; a compromised app can rewrite its own code",
    ),
    Mutant(
        "tasks in the public subnets",
        "infra/network.py",
        "task_subnet_ids=[subnet.id for subnet in self.task_subnets],",
        "task_subnet_ids=[subnet.id for subnet in self.public_subnets],",
        ("tests/test_stack.py",),
        "tasks without a public IP in public subnets cannot reach ECR or CloudWatch: they never start",
    ),
    Mutant(
        "task role is the execution role",
        "infra/task.py",
        "task_role_arn=self.roles.task_role.arn,",
        "task_role_arn=self.roles.execution_role.arn,",
        ("tests/test_stack.py",),
        "the app's own code holds the rights to pull images and read every secret",
    ),
    Mutant(
        "tasks admit themselves instead of the ALB",
        "infra/task_network.py",
        "referenced_security_group_id=alb_security_group.id,",
        "referenced_security_group_id=self.security_group.id,",
        ("tests/test_stack.py",),
        "the ALB's health checks and requests are dropped: no target ever gets healthy",
    ),
    Mutant(
        "alias aimed at the hosted zone instead of the ALB's",
        "infra/domain.py",
        '"zone_id": alb.zone_id,',
        '"zone_id": zone_id,',
        ("tests/test_options.py",),
        "Route53 refuses the alias: the target's zone must be the ALB's canonical hosted zone",
    ),
    Mutant(
        "alarm dimensions swapped",
        "infra/alarms.py",
        'targets = {"LoadBalancer": alb.arn_suffix, "TargetGroup": target_group.arn_suffix}',
        'targets = {"LoadBalancer": target_group.arn_suffix, "TargetGroup": alb.arn_suffix}',
        ("tests/test_alarms.py",),
        "the target alarms watch a metric that does not exist: they never fire and never roll back",
    ),
    Mutant(
        "autoscaled service still owns its desired count",
        "infra/service.py",
        'ignore_changes=["desired_count"] if settings.enable_autoscaling else None,',
        "ignore_changes=None,",
        ("tests/test_options.py",),
        "every `pulumi up` resets the scaler's task count to `replicas`, mid-traffic",
    ),
]


def mutate(project: Path, mutant: Mutant) -> None:
    """Replace the mutant's line, keeping its indentation; stop loudly unless it occurs exactly once."""
    path = project / mutant.path
    lines = path.read_text().splitlines(keepends=True)
    found = [index for index, line in enumerate(lines) if line.strip() == mutant.line]
    if len(found) != 1:
        raise LookupError(f"{mutant.path}: {len(found)} lines read {mutant.line!r}, not 1: update bench/mutants.py")
    index = found[0]
    indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
    lines[index] = f"{indent}{mutant.replacement}\n"
    path.write_text("".join(lines))


def run(bake: Path, scratch: Path, number: int, mutant: Mutant) -> tuple[Mutant, str, float, str]:
    """The mutant's outcome ("killed", "survived" or "error: ..."), the seconds its tests took, the first failure."""
    project = scratch / f"mutant-{number}"
    shutil.copytree(bake, project)
    try:
        mutate(project, mutant)
    except LookupError as error:
        return mutant, f"error: {error}", 0.0, ""
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-n", "0", *mutant.tests]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=project, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    shutil.rmtree(project, ignore_errors=True)
    # pytest: 0 all passed, 1 some failed, 2 interrupted (an import error counts: the change broke the program);
    # 4 and 5 (usage error, nothing collected) mean the test selection no longer matches the suite.
    outcomes = {0: "survived", 1: "killed", 2: "killed"}
    lines = result.stdout.strip().splitlines() or ["(no output)"]
    failed = next((line.split(" - ")[0] for line in lines if line.startswith(("FAILED", "ERROR"))), "")
    outcome = outcomes.get(result.returncode, f"error: pytest exited {result.returncode}: {lines[-1]}")
    return mutant, outcome, seconds, failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument("--only", default="", help="test only the mutants whose name contains this")
    args = parser.parse_args()
    mutants = [mutant for mutant in MUTANTS if args.only in mutant.name]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as directory:
        scratch = Path(directory)
        bake = Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(scratch / "bake")))
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(lambda item: run(bake, scratch, *item), enumerate(mutants)))
    for mutant, outcome, seconds, failed in results:
        print(f"{outcome:<9} {seconds:5.1f} s  {mutant.name} ({mutant.path})  {failed}")
    killed = [mutant for mutant, outcome, _, _ in results if outcome == "killed"]
    survivors = [mutant for mutant, outcome, _, _ in results if outcome == "survived"]
    errors = [(mutant, outcome) for mutant, outcome, _, _ in results if outcome.startswith("error")]
    print(f"mutants killed {len(killed)}/{len(results)} in {time.perf_counter() - started:.0f} s")
    for mutant in survivors:
        print(f"SURVIVED: {mutant.name} ({mutant.path}: {mutant.replacement}): {mutant.breaks}")
    for mutant, outcome in errors:
        print(f"ERROR: {mutant.name}: {outcome}")
    if errors:
        return 2
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
