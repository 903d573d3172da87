"""The container image: an ECR repository and the image built from app/ with the Docker Build provider."""

import hashlib
import os
import stat
from importlib.metadata import version
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_docker_build as docker_build
import pulumi_random as random

from infra.validation import resource_base_name

PLATFORM_BY_ARCHITECTURE = {
    "X86_64": docker_build.Platform.LINUX_AMD64,
    "ARM64": docker_build.Platform.LINUX_ARM64,
}
# Every release tag starts with this; the lifecycle policy counts only these, never the build cache.
RELEASE_TAG_PREFIX = "release-"
KEEP_RELEASES = 20
# Untagged images are the build-cache manifests each build replaces: nothing runs them, so they go after a day.
UNTAGGED_EXPIRY_DAYS = 1
CACHE_TAG = "buildcache"


def files_hash(app_dir: Path) -> str:
    """Path, mode and content of every file in app_dir: a superset of what the Docker Build provider hashes.

    A symbolic link counts as a link (its target path), not as the file it points to, as Docker copies it.
    __pycache__ is left out (app/.dockerignore keeps it out of the build context too), so running the app or its
    tests locally does not make a new release.
    """
    digest = hashlib.sha256()
    entries = (p for p in app_dir.rglob("*") if (p.is_symlink() or p.is_file()) and "__pycache__" not in p.parts)
    for path in sorted(entries):
        digest.update(path.relative_to(app_dir).as_posix().encode())
        if path.is_symlink():
            digest.update(b"link:" + os.readlink(path).encode())
            continue
        digest.update(oct(stat.S_IMODE(path.lstat().st_mode)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def release_keepers(app_dir: Path, platform: str) -> dict[str, str]:
    """Everything whose change makes the Docker Build provider build and push again.

    The provider rebuilds when its context hash or any input changes (the context's path, the platform, its own
    version); each rebuild pushes a new digest, and ECR refuses any push under an existing immutable tag. `app_dir`
    is relative to the project directory (where Pulumi runs the program), so every checkout gives the same keepers.
    """
    return {
        "files": files_hash(app_dir),
        "context": str(app_dir),
        "platform": platform,
        "builder": version("pulumi_docker_build"),
    }


def release_urn(stack: str, project: str) -> str:
    """The URN of the release suffix: `pulumi up --replace` with it draws a new release tag (`make new-image-tag`)."""
    component = "fargate:image:ContainerImage$random:index/randomId:RandomId"
    return f"urn:pulumi:{stack}::{project}::{component}::{resource_base_name(project)}-release"


def release_tag(platform: str, files: str, unique: str) -> str:
    """`release-linux-amd64-<files>-<unique>`: readable, and never the same twice."""
    return f"{RELEASE_TAG_PREFIX}{platform.replace('/', '-')}-{files[:12]}-{unique}"


def lifecycle_policy(keep_releases: int = KEEP_RELEASES) -> dict[str, object]:
    """Untagged images (replaced build caches) expire first; then only the newest releases are kept."""
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": f"expire untagged images (replaced build caches) after {UNTAGGED_EXPIRY_DAYS} day",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": UNTAGGED_EXPIRY_DAYS,
                },
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 2,
                "description": f"keep the last {keep_releases} releases",
                "selection": {
                    "tagStatus": "tagged",
                    "tagPrefixList": [RELEASE_TAG_PREFIX],
                    "countType": "imageCountMoreThan",
                    "countNumber": keep_releases,
                },
                "action": {"type": "expire"},
            },
        ]
    }


class ContainerImage(pulumi.ComponentResource):
    """Builds `app_dir` for `cpu_architecture` and pushes it to a new ECR repository; `ref` pins the digest."""

    def __init__(
        self, name: str, app_dir: Path, cpu_architecture: str, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("fargate:image:ContainerImage", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.repository = aws.ecr.Repository(
            f"{name}-repo",
            image_scanning_configuration={"scan_on_push": True},
            # Release tags can never be overwritten; only the build-cache tag moves.
            image_tag_mutability="IMMUTABLE_WITH_EXCLUSION",
            image_tag_mutability_exclusion_filters=[{"filter": CACHE_TAG, "filter_type": "WILDCARD"}],
            force_delete=True,
            opts=child,
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-keep-recent",
            repository=self.repository.name,
            policy=pulumi.Output.json_dumps(lifecycle_policy()),
            opts=child,
        )
        platform = PLATFORM_BY_ARCHITECTURE[cpu_architecture]
        keepers = release_keepers(app_dir, platform.value)
        # A new random suffix whenever anything that rebuilds the image changes, including a return to earlier
        # content: ECR refuses even an identical push under an existing immutable tag, so a tag is never reused.
        self.release = random.RandomId(f"{name}-release", byte_length=4, keepers=keepers, opts=child)
        tag = self.release.hex.apply(lambda unique: release_tag(platform.value, keepers["files"], unique))
        token = aws.ecr.get_authorization_token_output(registry_id=self.repository.registry_id)
        url = self.repository.repository_url
        cache_ref = pulumi.Output.concat(url, ":", CACHE_TAG)
        self.image = docker_build.Image(
            f"{name}-image",
            context={"location": str(app_dir)},
            dockerfile={"location": str(app_dir / "Dockerfile")},
            platforms=[platform],
            tags=[pulumi.Output.concat(url, ":", tag)],
            push=True,
            registries=[{"address": url, "username": token.user_name, "password": token.password}],
            cache_from=[{"registry": {"ref": cache_ref}}],
            cache_to=[{"registry": {"ref": cache_ref, "image_manifest": True, "oci_media_types": True}}],
            opts=child,
        )
        # repository@sha256:...: the task definition changes exactly when the image content does.
        self.ref = self.image.ref
        self.register_outputs({"ref": self.ref, "repository_url": url})
