"""Image tags against ECR's tag immutability, and the repository's lifecycle policy.

Sequences of deploys are replayed against moto's ECR, which refuses a push under an existing immutable tag as ECR
does. Between deploys the mocks keep each RandomId's value while its keepers stay the same and draw a new one when
they change, as pulumi_random does; a deploy pushes whenever the Docker Build provider would rebuild (any input or its
build-context hash changed, reproduced below from its source), each time a new digest (builds carry timestamps).
"""

import hashlib
import json
import secrets
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pulumi
import pytest
from botocore.exceptions import ClientError  # type: ignore[import-untyped]
from image_contents import build_context, image
from moto import mock_aws

import infra.stack
from conftest import PROJECT, RecordingMocks, Registered, deploy, run_program
from infra.image import CACHE_TAG, RELEASE_TAG_PREFIX, files_hash, lifecycle_policy, release_keepers
from infra.stack import build_stack
from infra.validation import parse_settings

APP_DIR = Path(__file__).resolve().parent.parent / "app"


class ReplacingMocks(RecordingMocks):
    """Mocks that remember each RandomId between runs: kept while its keepers stay the same, new when they change."""

    def __init__(self, randoms: dict[str, tuple[Any, str]]) -> None:
        super().__init__()
        self.randoms = randoms

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        resource_id, outputs = super().new_resource(args)
        if args.typ == "random:index/randomId:RandomId":
            keepers = args.inputs.get("keepers")
            previous = self.randoms.get(args.name)
            if previous is None or previous[0] != keepers:
                self.randoms[args.name] = (keepers, secrets.token_hex(4))
            outputs["hex"] = self.randoms[args.name][1]
        return resource_id, outputs


def docker_build_context_hash(app_dir: Path) -> str:
    """What pulumi-docker-build hashes to decide on a rebuild (provider/internal/context.go, hashBuildContext):
    the Dockerfile's content, then path, mode and content of each file .dockerignore lets into the context."""
    digest = hashlib.sha256((app_dir / "Dockerfile").read_bytes())
    for relative in build_context(app_dir):
        path = app_dir / relative
        digest.update(path.read_bytes() + relative.encode() + oct(path.stat().st_mode).encode())
    return digest.hexdigest()


class Deployer:
    """`pulumi up` of the image, repeated: the program under mocks, then the pushes the provider would make."""

    def __init__(self) -> None:
        self.randoms: dict[str, tuple[Any, str]] = {}
        self.ecr = boto3.client("ecr", region_name="us-east-1")
        self.last_build: tuple[Any, ...] | None = None
        self.pushed_tags: list[str] = []
        self.repository = ""

    def up(
        self, checkout: Path, cpu_architecture: str, monkeypatch: pytest.MonkeyPatch, fail_push: bool = False
    ) -> None:
        """`pulumi up` in `checkout` (Pulumi runs the program from the project directory); with fail_push the push
        lands in ECR but the run fails before Pulumi records it (a cache export error, Ctrl-C, a CI timeout)."""
        monkeypatch.chdir(checkout)
        settings = parse_settings({"cpu_architecture": cpu_architecture, "cpu": 1024, "memory": 2048})
        mocks = run_program(lambda: build_stack(PROJECT, settings), mocks=ReplacingMocks(self.randoms))
        [repository] = [r for r in mocks.resources if r.type == "aws:ecr/repository:Repository"]
        [image] = [r for r in mocks.resources if r.type == "docker-build:index:Image"]
        if not self.repository:
            self.create_repository(repository)
        inputs = {key: value for key, value in image.inputs.items() if key != "registries"}
        context = Path(image.inputs["context"]["location"])
        build = (json.dumps(inputs, sort_keys=True), docker_build_context_hash(context))
        if build != self.last_build:
            for reference in [*image.inputs["tags"], image.inputs["cacheTo"][0]["registry"]["ref"]]:
                self.push(reference.rsplit(":", 1)[1])
            if not fail_push:
                self.last_build = build

    def create_repository(self, repository: Registered) -> None:
        """The repository as the program declares it (mutability and exclusions from its inputs)."""
        self.repository = "app"
        self.ecr.create_repository(
            repositoryName=self.repository,
            imageTagMutability=repository.inputs["imageTagMutability"],
            imageTagMutabilityExclusionFilters=[
                {"filter": f["filter"], "filterType": f["filterType"]}
                for f in repository.inputs.get("imageTagMutabilityExclusionFilters", [])
            ],
        )

    def push(self, tag: str) -> None:
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "annotations": {"created": str(time.time_ns()), "nonce": secrets.token_hex(8)},
        }
        self.ecr.put_image(repositoryName=self.repository, imageManifest=json.dumps(manifest), imageTag=tag)
        self.pushed_tags.append(tag)


def write(path: Path) -> None:
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b"\0")


def edit(path: Path, change: Callable[[str], str]) -> None:
    path.write_text(change(path.read_text()))


def revert(path: Path, text: str) -> None:
    path.write_text(text)


@mock_aws
def test_every_sequence_of_app_changes_deploys_under_new_immutable_tags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout = tmp_path / "checkout"
    app = checkout / "app"
    shutil.copytree(APP_DIR, app, ignore=shutil.ignore_patterns("__pycache__"))
    original = (app / "main.py").read_text()
    deployer = Deployer()
    steps: list[tuple[str, Callable[[], None], str]] = [
        ("first deploy", lambda: None, "X86_64"),
        ("change the app", lambda: edit(app / "main.py", lambda text: text + "\n# v2\n"), "X86_64"),
        ("revert the change", lambda: revert(app / "main.py", original), "X86_64"),
        ("switch to ARM64", lambda: None, "ARM64"),
        ("switch back to X86_64", lambda: None, "X86_64"),
        ("make a file executable", lambda: (app / "server.py").chmod(0o755), "X86_64"),
        ("run the app locally (bytecode)", lambda: write(app / "__pycache__" / "main.pyc"), "X86_64"),
    ]
    for step, change, architecture in steps:
        change()
        try:
            deployer.up(checkout, architecture, monkeypatch)
        except ClientError as error:
            pytest.fail(f"{step}: ECR refused the push: {error}")
    # The same commit from another checkout (a CI runner's path): the same inputs, so no rebuild and no new release.
    moved = tmp_path / "elsewhere" / "ci-runner"
    shutil.copytree(checkout, moved)
    deployer.up(moved, "X86_64", monkeypatch)

    releases = [tag for tag in deployer.pushed_tags if tag != CACHE_TAG]
    assert len(releases) == len(set(releases)) == 6, "one release per rebuild, none for unchanged content"
    assert all(tag.startswith(RELEASE_TAG_PREFIX) for tag in releases)


@mock_aws
def test_a_push_that_failed_half_way_is_recovered_by_a_new_release_tag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout = tmp_path / "checkout"
    shutil.copytree(APP_DIR, checkout / "app", ignore=shutil.ignore_patterns("__pycache__"))
    deployer = Deployer()
    deployer.up(checkout, "X86_64", monkeypatch, fail_push=True)
    with pytest.raises(ClientError, match="already exists"):  # moto: ImageAlreadyExists; ECR: ImageTag...
        deployer.up(checkout, "X86_64", monkeypatch)  # the same keepers, so the same tag: ECR refuses it
    # `make new-image-tag`: pulumi up --replace <the RandomId's URN> draws a new suffix, so a new tag.
    [name] = deployer.randoms
    del deployer.randoms[name]
    deployer.up(checkout, "X86_64", monkeypatch)
    releases = [tag for tag in deployer.pushed_tags if tag != CACHE_TAG]
    assert len(releases) == len(set(releases)) == 2


def test_two_checkouts_at_different_paths_build_the_same_release(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = []
    for checkout in (tmp_path / "laptop" / "src", tmp_path / "runner" / "_work" / "repo"):
        shutil.copytree(APP_DIR, checkout / "app", ignore=shutil.ignore_patterns("__pycache__"))
        monkeypatch.chdir(checkout)
        keepers = release_keepers(infra.stack.APP_DIR, "linux/amd64")
        mocks = run_program(lambda: build_stack(PROJECT, parse_settings({})))
        [image] = [r for r in mocks.resources if r.type == "docker-build:index:Image"]
        seen.append((keepers, image.inputs["context"], image.inputs["dockerfile"]))
    assert seen[0] == seen[1]
    assert seen[0][1] == {"location": "app"}


def test_files_hash_counts_a_symbolic_link_as_a_link(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("one")
    (tmp_path / "b.txt").write_text("two")
    (tmp_path / "link").symlink_to("a.txt")
    linked = files_hash(tmp_path)
    (tmp_path / "link").unlink()
    (tmp_path / "link").symlink_to("b.txt")
    assert files_hash(tmp_path) != linked, "pointing the link elsewhere is a change"
    (tmp_path / "b.txt").write_text("changed")
    retargeted = files_hash(tmp_path)
    (tmp_path / "link").unlink()
    shutil.copy(tmp_path / "b.txt", tmp_path / "link")
    assert files_hash(tmp_path) != retargeted, "a copy of the file is not the link Docker would copy"
    (tmp_path / "link").unlink()
    (tmp_path / "link").symlink_to("missing")
    assert files_hash(tmp_path)  # a dangling link is hashed, not followed


def test_release_tag_names_its_platform_and_content() -> None:
    deployment = deploy(cpu_architecture="ARM64", cpu=1024, memory=2048)
    [tag] = deployment.one("docker-build:index:Image").inputs["tags"]
    release = deployment.one("random:index/randomId:RandomId")
    assert tag.rsplit(":", 1)[1].startswith(f"{RELEASE_TAG_PREFIX}linux-arm64-")
    assert tag.endswith("-" + release.outputs["hex"])
    assert release.inputs["keepers"]["platform"] == "linux/arm64"


def test_build_context_leaves_out_bytecode_and_local_state(tmp_path: Path) -> None:
    """The release keepers skip __pycache__; the build context must too, or a rebuild could reuse a tag. Local state
    and the usual secret files (a venv, .env files, keys, cloud and package credentials, .git) never reach an image;
    an .env.example does."""
    app_dir = tmp_path / "app"
    shutil.copytree(APP_DIR, app_dir, ignore=shutil.ignore_patterns("__pycache__"))
    local_state = ["__pycache__/main.cpython-312.pyc", "pkg/__pycache__/x.pyc", "main.pyc", ".venv/bin/python"]
    secret_files = [
        ".env", ".env.local", "pkg/.env", "tls.pem", "pkg/server.key", "id_rsa", "id_ed25519.pub", ".aws/credentials",
        ".ssh/config", ".netrc", ".npmrc", ".pypirc", "credentials.json", "pkg/credentials", ".git/config",
        "node_modules/x/index.js",
    ]  # fmt: skip
    for local in [*local_state, *secret_files, ".env.example"]:
        (app_dir / local).parent.mkdir(parents=True, exist_ok=True)
        (app_dir / local).write_text("local")
    (app_dir / "pkg" / "__init__.py").write_text("")
    assert build_context(app_dir) == sorted([*build_context(APP_DIR), ".env.example", "pkg/__init__.py"])
    assert not any("__pycache__" in path or path.endswith(".pyc") for path in build_context(APP_DIR))


def test_the_image_holds_the_whole_app(tmp_path: Path) -> None:
    """Every file of app/ but the Dockerfile lands in the image's WORKDIR, packages included: a new module or
    package needs no Dockerfile edit (tests/test_fargate_runtime.py runs the app from exactly these files)."""
    app_dir = tmp_path / "app"
    shutil.copytree(APP_DIR, app_dir, ignore=shutil.ignore_patterns("__pycache__"))
    (app_dir / "routes").mkdir()
    (app_dir / "routes" / "__init__.py").write_text("")
    (app_dir / "settings.py").write_text("")
    built = image(app_dir)
    sources = {path.relative_to(app_dir).as_posix() for path in app_dir.rglob("*") if path.is_file()}
    assert set(built.files.values()) == sources - {"Dockerfile"}
    assert {target: source for target, source in built.files.items() if source.endswith(".py")} == {
        f"/srv/{source}": source for source in sources if source.endswith(".py")
    }
    assert {"/srv/main.py", "/srv/server.py", "/srv/settings.py", "/srv/routes/__init__.py"} <= set(built.files)
    assert (built.workdir, built.user, built.command) == ("/srv", "10001:10001", ["python", "server.py"])


def test_dockerignore_patterns_are_anchored_at_the_context_as_docker_reads_them(tmp_path: Path) -> None:
    """Docker's semantics, not gitignore's: `main.py` leaves out only the top one, `**/` reaches any depth, `!`
    brings a file back, comments are not patterns."""
    for relative in ["main.py", "sub/main.py", "sub/deep/x.pyc", "keep.pyc", "# a comment"]:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("")
    (tmp_path / ".dockerignore").write_text("# a comment\nmain.py\n**/*.pyc\n!keep.pyc\n")
    assert build_context(tmp_path) == ["# a comment", ".dockerignore", "keep.pyc", "sub/main.py"]


def test_lifecycle_expires_untagged_images_first_then_keeps_the_newest_releases(default_stack: Any) -> None:
    policy = json.loads(default_stack.one("aws:ecr/lifecyclePolicy:LifecyclePolicy").inputs["policy"])
    untagged, releases = policy["rules"]
    assert policy == lifecycle_policy()
    assert untagged["rulePriority"] < releases["rulePriority"]
    assert untagged["selection"] == {
        "tagStatus": "untagged",
        "countType": "sinceImagePushed",
        "countUnit": "days",
        "countNumber": 1,
    }
    # Only release tags count towards the kept images: the moving build-cache tag and its untagged predecessors don't.
    assert releases["selection"] == {
        "tagStatus": "tagged",
        "tagPrefixList": [RELEASE_TAG_PREFIX],
        "countType": "imageCountMoreThan",
        "countNumber": 20,
    }
    assert not CACHE_TAG.startswith(RELEASE_TAG_PREFIX)
    assert all(rule["action"] == {"type": "expire"} for rule in policy["rules"])
