"""What the image holds of the app, worked out from its sources as Docker would, without a Docker engine.

1. The build context: app/ as its .dockerignore filters it, by the matcher of Docker's own Python SDK
   (`docker.utils.build.PatternMatcher`, a port of moby's pattern matcher: patterns are anchored at the context's
   root, `**` spans directories, `!` re-includes, the last match wins), reading the file as the SDK's `build()` does
   (blank lines and `#` comments dropped). gitignore-style matchers (pathspec's gitwildmatch) differ: there a bare
   `main.py` also ignores `sub/main.py`.
2. The Dockerfile's last stage (the image), parsed by `dockerfile-parse`: its WORKDIR, USER, CMD and every COPY from
   the context (`COPY --from` copies out of another stage: the venv, for which the test's own Python stands in).
3. `assemble` lays those files out as the image's filesystem would hold them, for bubblewrap to mount.
"""

import json
import posixpath
import shutil
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath

from docker.utils.build import PatternMatcher  # type: ignore[import-untyped]
from dockerfile_parse import DockerfileParser  # type: ignore[import-untyped]


def ignore_patterns(context: Path) -> list[str]:
    ignore_file = context / ".dockerignore"
    lines = ignore_file.read_text().splitlines() if ignore_file.exists() else []
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def build_context(context: Path) -> list[str]:
    """The files (and links) of `context` that .dockerignore lets into the build context, as relative POSIX paths."""
    matcher = PatternMatcher(ignore_patterns(context))
    return sorted(
        PurePosixPath(Path(relative)).as_posix()
        for relative in matcher.walk(str(context))
        if (context / relative).is_symlink() or (context / relative).is_file()
    )


@dataclass(frozen=True)
class Image:
    files: dict[str, str]  # absolute path in the image -> path in the build context
    workdir: str
    user: str
    command: list[str]


def _arguments(value: str) -> list[str]:
    """An instruction's arguments: the JSON form, or words split on whitespace (Docker does not shell-quote them)."""
    return [str(word) for word in json.loads(value)] if value.lstrip().startswith("[") else value.split()


def image(context: Path) -> Image:
    """The app's files in the image, where they land, and how the image runs them."""
    parser = DockerfileParser(fileobj=(context / "Dockerfile").open("rb"))
    stages: list[list[dict[str, str]]] = []
    for instruction in parser.structure:
        if instruction["instruction"] == "FROM":
            stages.append([])
        elif stages:
            stages[-1].append(instruction)
    in_context = build_context(context)
    files: dict[str, str] = {}
    workdir, user, command = "/", "root", []
    for instruction in stages[-1]:
        name, words = instruction["instruction"], _arguments(instruction["value"])
        if name == "WORKDIR":
            workdir = posixpath.join(workdir, words[0])
        elif name == "USER":
            user = words[0]
        elif name == "CMD":
            command = words
        elif name == "ADD":
            raise AssertionError(f"ADD is not modelled here; use COPY: {instruction['content']}")
        elif name == "COPY" and not any(word.startswith("--from") for word in words):
            *sources, destination = [word for word in words if not word.startswith("--")]
            files.update(_copied(in_context, sources, posixpath.join(workdir, destination)))
    return Image(files, workdir, user, command)


def _copied(in_context: list[str], sources: list[str], destination: str) -> dict[str, str]:
    """COPY's rules: a directory's contents (not the directory) go into the destination; a file goes into it when it
    ends with / or several sources are given, else becomes it; sources may be wildcards."""
    into = destination.endswith("/") or len(sources) > 1
    copied = {}
    for given in sources:
        source = posixpath.normpath(given).lstrip("/")
        if source == ".":
            matched = [(path, path) for path in in_context]
        else:
            matched = []
            for path in in_context:
                if fnmatchcase(path, source):
                    matched.append((path, posixpath.basename(path) if into else ""))
                elif any(fnmatchcase(parent, source) for parent in _parents(path)):
                    top = next(parent for parent in _parents(path) if fnmatchcase(parent, source))
                    matched.append((path, posixpath.relpath(path, top)))
        assert matched, f"COPY {source}: nothing in the build context matches it (left out by .dockerignore?)"
        for path, relative in matched:
            copied[posixpath.normpath(posixpath.join(destination, relative))] = path
    return copied


def _parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:depth]) for depth in range(1, len(parts))]


def assemble(context: Path, root: Path) -> Image:
    """Lay the app's files out under `root` as the image holds them; the image description for running them."""
    built = image(context)
    for target, source in built.files.items():
        destination = root / target.lstrip("/")
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(context / source, destination, follow_symlinks=False)
    return built
