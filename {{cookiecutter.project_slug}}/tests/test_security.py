"""The security baseline under mocks: tasks, secrets, ALB access logs and deletion protection."""

import json
from typing import Any

import pytest

from conftest import ACCOUNT, Deployment, deploy

SECRET_ARN = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:api-key-AbCdEf"
KMS_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/0b5e3c9a-1111-2222-3333-444455556666"


def container(deployment: Deployment) -> dict[str, Any]:
    [only] = json.loads(deployment.one("aws:ecs/taskDefinition:TaskDefinition").inputs["containerDefinitions"])
    return dict(only)


def test_container_is_unprivileged_non_root_and_read_only_with_a_private_tmp(default_stack: Deployment) -> None:
    task = default_stack.one("aws:ecs/taskDefinition:TaskDefinition").inputs
    app = container(default_stack)
    assert app["privileged"] is False
    assert app["user"] == "10001:10001"
    assert app["readonlyRootFilesystem"] is True
    # /tmp is a tmpfs any user may write (a task volume would be root-owned 0755); nothing else is writable.
    assert app["linuxParameters"]["tmpfs"] == [
        {"containerPath": "/tmp", "size": 64, "mountOptions": ["nosuid", "nodev", "noexec"]}
    ]
    assert app.get("mountPoints", []) == [] and not task.get("volumes")


# The ECS API's valid tmpfs mount options (API reference `Tmpfs.mountOptions`, and CloudFormation's
# `AWS::ECS::TaskDefinition Tmpfs`): `mode`, `uid`, `gid` appear as bare words, with no documented form with a value.
ECS_TMPFS_MOUNT_OPTIONS = {
    *("defaults", "ro", "rw", "suid", "nosuid", "dev", "nodev", "exec", "noexec", "sync", "async", "dirsync"),
    *("remount", "mand", "nomand", "atime", "noatime", "diratime", "nodiratime", "bind", "rbind", "unbindable"),
    *("runbindable", "private", "rprivate", "shared", "rshared", "slave", "rslave", "relatime", "norelatime"),
    *("strictatime", "nostrictatime", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol"),
}


def test_tmpfs_mount_options_are_the_values_the_ecs_api_lists(default_stack: Deployment) -> None:
    """RegisterTaskDefinition may check each option against that list: a `mode=1777` it does not list could fail the
    first `pulumi up`. 1777 is a tmpfs's default anyway (test_fargate_runtime.py writes /tmp as the task's user)."""
    [tmpfs] = container(default_stack)["linuxParameters"]["tmpfs"]
    assert set(tmpfs["mountOptions"]) <= ECS_TMPFS_MOUNT_OPTIONS


def test_environment_holds_no_credentials_and_no_secret_policy_without_secrets(default_stack: Deployment) -> None:
    names = {entry["name"] for entry in container(default_stack)["environment"]}
    assert names == {
        "SERVICE_NAME",
        "PORT",
        "HEALTH_CHECK_PATH",
        "GRACEFUL_SHUTDOWN_SECONDS",
        "SHUTDOWN_DRAIN_SECONDS",
        "KEEP_ALIVE_SECONDS",
    }
    assert container(default_stack)["secrets"] == []
    assert [p.name for p in default_stack.of_type("aws:iam/rolePolicy:RolePolicy") if "flow-logs" not in p.name] == []


def test_secrets_are_injected_and_only_they_are_readable() -> None:
    deployment = deploy(secrets={"DATABASE_URL": "/prod/db-url", "API_KEY": SECRET_ARN}, secrets_kms_key_arn=KMS_KEY)
    parameter_arn = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/prod/db-url"
    assert container(deployment)["secrets"] == [
        {"name": "API_KEY", "valueFrom": SECRET_ARN},
        {"name": "DATABASE_URL", "valueFrom": parameter_arn},
    ]
    [policy] = [p for p in deployment.of_type("aws:iam/rolePolicy:RolePolicy") if p.name.endswith("-read-secrets")]
    execution_role = next(r for r in deployment.of_type("aws:iam/role:Role") if r.name.endswith("-execution"))
    assert policy.inputs["role"] == execution_role.id
    assert json.loads(policy.inputs["policy"])["Statement"] == [
        {"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": [parameter_arn]},
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": [SECRET_ARN]},
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KMS_KEY},
    ]


def test_alb_writes_access_logs_to_a_private_encrypted_expiring_bucket(default_stack: Deployment) -> None:
    bucket = default_stack.one("aws:s3/bucket:Bucket")
    alb = default_stack.one("aws:lb/loadBalancer:LoadBalancer").inputs
    assert alb["accessLogs"] == {"bucket": bucket.id, "prefix": "alb", "enabled": True}
    block = default_stack.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(
        block[key] is True
        for key in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    encryption = default_stack.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    ).inputs
    assert encryption["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    lifecycle = default_stack.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs
    assert lifecycle["rules"][0]["expiration"]["days"] == 90


@pytest.mark.parametrize(("region", "elb_account"), [("us-east-1", True), ("eu-central-2", False)])
def test_bucket_policy_lets_only_elb_log_delivery_write(region: str, elb_account: bool) -> None:
    deployment = deploy(aws_region=region)
    statements = {
        s["Sid"]: s
        for s in json.loads(deployment.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])["Statement"]
    }
    assert statements["ElbLogDelivery"]["Principal"] == {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
    assert statements["ElbLogDelivery"]["Resource"].endswith(f"/alb/AWSLogs/{ACCOUNT}/*")
    assert statements["DenyInsecureTransport"]["Effect"] == "Deny"
    assert ("ElbAccountLogDelivery" in statements) is elb_account


@pytest.mark.parametrize(
    ("stack", "setting", "protected"),
    [("dev", "", False), ("prod", "", True), ("prod-eu", "", True), ("dev", "true", True), ("prod", "false", False)],
)
def test_deletion_protection_defaults_on_for_prod_stacks(stack: str, setting: str, protected: bool) -> None:
    alb = deploy(stack=stack, alb_deletion_protection=setting).one("aws:lb/loadBalancer:LoadBalancer").inputs
    assert alb["enableDeletionProtection"] is protected


@pytest.mark.parametrize("enabled", [False, True])
def test_ecs_exec_is_off_unless_enabled_and_then_needs_a_writable_root_filesystem(enabled: bool) -> None:
    """AWS: exec's agent needs to write to the container's filesystem; a read-only root is unsupported for exec and
    no paths are documented to mount instead. So exec declares its exception, and mounts nothing undocumented."""
    deployment = deploy(enable_exec=enabled)
    service = deployment.one("aws:ecs/service:Service").inputs
    task = deployment.one("aws:ecs/taskDefinition:TaskDefinition").inputs
    app = container(deployment)
    exec_policies = [p for p in deployment.of_type("aws:iam/rolePolicy:RolePolicy") if p.name.endswith("-exec")]
    assert service["enableExecuteCommand"] is enabled
    assert app["readonlyRootFilesystem"] is not enabled
    assert (task.get("tags") or {}).get("enable_exec") == ("true" if enabled else None)
    assert app.get("mountPoints", []) == []
    assert len(exec_policies) == enabled
    if enabled:
        task_role = next(r for r in deployment.of_type("aws:iam/role:Role") if r.name.endswith("-task"))
        assert exec_policies[0].inputs["role"] == task_role.id
        [statement] = json.loads(exec_policies[0].inputs["policy"])["Statement"]
        assert all(action.startswith("ssmmessages:") and "*" not in action for action in statement["Action"])
