"""The container image: an ECR repository and the image built from app/ with the Docker Build provider."""

import hashlib
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_docker_build as docker_build

PLATFORM_BY_ARCHITECTURE = {
    "X86_64": docker_build.Platform.LINUX_AMD64,
    "ARM64": docker_build.Platform.LINUX_ARM64,
}
KEEP_IMAGES = 20
CACHE_TAG = "buildcache"


def content_tag(app_dir: Path, platform: str) -> str:
    """A tag that changes exactly when the app's files or the target platform change (tags are immutable in ECR)."""
    digest = hashlib.sha256(platform.encode())
    for path in sorted(p for p in app_dir.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(app_dir).as_posix().encode())
        digest.update(path.read_bytes())
    return f"{platform.replace('/', '-')}-{digest.hexdigest()[:16]}"


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
            policy=pulumi.Output.json_dumps(
                {
                    "rules": [
                        {
                            "rulePriority": 1,
                            "description": f"keep the last {KEEP_IMAGES} images",
                            "selection": {
                                "tagStatus": "any",
                                "countType": "imageCountMoreThan",
                                "countNumber": KEEP_IMAGES,
                            },
                            "action": {"type": "expire"},
                        }
                    ]
                }
            ),
            opts=child,
        )
        platform = PLATFORM_BY_ARCHITECTURE[cpu_architecture]
        token = aws.ecr.get_authorization_token_output(registry_id=self.repository.registry_id)
        url = self.repository.repository_url
        cache_ref = pulumi.Output.concat(url, ":", CACHE_TAG)
        self.image = docker_build.Image(
            f"{name}-image",
            context={"location": str(app_dir)},
            dockerfile={"location": str(app_dir / "Dockerfile")},
            platforms=[platform],
            tags=[pulumi.Output.concat(url, ":", content_tag(app_dir, platform.value))],
            push=True,
            registries=[{"address": url, "username": token.user_name, "password": token.password}],
            cache_from=[{"registry": {"ref": cache_ref}}],
            cache_to=[{"registry": {"ref": cache_ref, "image_manifest": True, "oci_media_types": True}}],
            opts=child,
        )
        # repository@sha256:...: the task definition changes exactly when the image content does.
        self.ref = self.image.ref
        self.register_outputs({"ref": self.ref, "repository_url": url})
