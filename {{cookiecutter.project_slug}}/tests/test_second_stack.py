"""The README's steps for a second stack: `prod` from this stack's config, with its own size and protection."""

import yaml

from conftest import PROJECT, ROOT, run_main


def test_prod_stack_copied_from_this_one_gets_its_own_size_and_deletion_protection() -> None:
    first = sorted(ROOT.glob("Pulumi.*.yaml"))[0]  # the stack generated with the project
    config = {
        key: str(value).lower() if isinstance(value, bool) else str(value)
        for key, value in yaml.safe_load(first.read_text())["config"].items()
    }
    # pulumi config cp --dest prod; pulumi config set --stack prod replicas 6 (and cpu, memory)
    prod = {**config, f"{PROJECT}:replicas": "6", f"{PROJECT}:cpu": "1024", f"{PROJECT}:memory": "2048"}
    resources, failure = run_main(prod, stack="prod")
    assert failure is None
    [service] = [r.inputs for r in resources if r.type == "aws:ecs/service:Service"]
    [task] = [r.inputs for r in resources if r.type == "aws:ecs/taskDefinition:TaskDefinition"]
    [alb] = [r.inputs for r in resources if r.type == "aws:lb/loadBalancer:LoadBalancer"]
    assert service["desiredCount"] == 6
    assert (task["cpu"], task["memory"]) == ("1024", "2048")
    assert alb["enableDeletionProtection"] is True
    assert alb["tags"] == {"stack": "prod"}
