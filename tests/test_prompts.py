"""The questions as a person answers them, through cookiecutter's real prompt on a pseudo-terminal: numbered menus,
and a refused run that gives every answer back as one command to paste."""

import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pexpect
import yaml
from conftest import BIN, TEMPLATE, defaults, printed_command

QUESTIONS = [key for key in defaults() if not key.startswith("_")]
PROMPTS = defaults()["__prompts__"]
STYLE = re.compile(r"\x1b\[[0-9;]*m")  # rich styles the prompt (bold, dim) even with NO_COLOR
# The end of a prompt, "(default): ", "[y/n] (n): " or "Choose from [1/2] (1): ", the default styled.
PROMPT_END = re.compile(r"\)(\x1b\[[0-9;]*m)*: ")


def label(key: str) -> str:
    prompt = PROMPTS[key]
    return prompt if isinstance(prompt, str) else prompt["__prompt__"]


def answer_interactively(cwd: Path, env: dict[str, str], template: str, answers: dict[str, str]) -> tuple[int, str]:
    """Run `cookiecutter <template>` in `cwd` on a pseudo-terminal, checking each question comes in the order of
    cookiecutter.json with its label; type `answers[key]`, or just Enter. Returns the exit status and the transcript."""
    transcript = io.StringIO()
    child = pexpect.spawn(
        str(BIN / "cookiecutter"),
        [template],
        cwd=str(cwd),
        env=env,
        encoding="utf-8",
        timeout=20,
        dimensions=(50, 250),  # wide enough that no label is wrapped
    )
    child.delaybeforesend = None  # it waits 50 ms before each answer by default
    child.logfile_read = transcript
    for number, key in enumerate(QUESTIONS, 1):
        child.expect_exact(f"[{number}/{len(QUESTIONS)}]")
        child.expect(PROMPT_END)
        child.sendline(answers.get(key, ""))
    child.expect(pexpect.EOF)
    child.close()
    text = STYLE.sub("", transcript.getvalue()).replace("\r\n", "\n")
    asked = [text.index(f"[{number}/{len(QUESTIONS)}] {label(key)}") for number, key in enumerate(QUESTIONS, 1)]
    assert asked == sorted(asked)
    return child.exitstatus, text


def stack_config(project: Path) -> dict[str, object]:
    config = yaml.safe_load((project / "Pulumi.dev.yaml").read_text())["config"]
    return {key.split(":", 1)[1]: value for key, value in config.items() if not key.startswith("aws:")}


def publish(repository: Path) -> None:
    """This template as it is in the working tree, committed to a git repository (a stand-in for GitHub)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=TEMPLATE,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    for name in listed:
        if (TEMPLATE / name).is_file():
            (repository / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(TEMPLATE / name, repository / name)
    for command in (["init", "--quiet"], ["add", "--all"], ["commit", "--quiet", "-m", "template"]):
        git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *command]
        subprocess.run(git, cwd=repository, check=True, capture_output=True)


def test_menu_choices_land_in_the_stack_file(tmp_path: Path, user_env: dict[str, str]) -> None:
    status, transcript = answer_interactively(
        tmp_path, user_env, str(TEMPLATE), {"cpu_architecture": "2", "networking": "3"}
    )
    assert status == 0, transcript
    assert "1 - X86_64 (Intel/AMD)\n    2 - ARM64" in transcript  # numbered, the default first
    config = stack_config(tmp_path / "hello-fargate")
    assert (config["cpu_architecture"], config["networking"]) == ("ARM64", "public-subnets")


def test_a_refused_run_prints_a_command_that_generates_once_the_answer_is_fixed(
    tmp_path: Path, user_env: dict[str, str]
) -> None:
    publish(tmp_path / "github" / "org" / "fargate-template")
    answers = {"project_name": "Payments API", "cpu_architecture": "2", "cpu": "1"}
    status, transcript = answer_interactively(tmp_path, user_env, "gh:org/fargate-template", answers)

    assert status != 0
    assert "error: cpu=1 is not allowed: choose 256, 512, 1024, 2048, 4096, 8192 or 16384" in transcript
    assert not (tmp_path / "payments-api").exists()
    # What the person typed names the template, the refused answer is alone on the last line.
    command = printed_command(transcript).splitlines()
    assert command[0] == "  cookiecutter --no-input gh:org/fargate-template \\"
    assert command[-1] == "    cpu=1"
    assert "project_slug" not in "".join(command)  # computed from project_name: fixing the name fixes it too
    replay = tmp_path / "replay" / "fargate-template.json"
    assert f"Cookiecutter also saved them in {replay};" in transcript

    fixed = "\n".join([*command[:-1], "    cpu=256"])
    done = subprocess.run(["sh", "-c", fixed], cwd=tmp_path, env=user_env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    config = stack_config(tmp_path / "payments-api")
    assert (config["cpu_architecture"], config["cpu"]) == ("ARM64", 256)


def test_the_replay_file_it_names_runs_once_edited(tmp_path: Path, user_env: dict[str, str]) -> None:
    status, transcript = answer_interactively(tmp_path, user_env, str(TEMPLATE), {"networking": "2", "replicas": "1"})
    assert status != 0
    replay = tmp_path / "replay" / f"{TEMPLATE.name}.json"
    lines = transcript.splitlines()
    again = lines[lines.index(f"Cookiecutter also saved them in {replay}; edited there, they run with:") + 1]
    recorded = json.loads(replay.read_text())
    recorded["cookiecutter"]["replicas"] = "2"
    # Cookiecutter does not hold a replayed answer to its menu: the hook refuses it, naming the field.
    replay.write_text(json.dumps({**recorded, "cookiecutter": {**recorded["cookiecutter"], "networking": "private"}}))
    done = subprocess.run(["sh", "-c", again], cwd=tmp_path, env=user_env, capture_output=True, text=True)
    assert "error: networking=private is not allowed: choose private-nat-per-az, " in done.stderr
    assert not (tmp_path / "hello-fargate").exists()

    replay.write_text(json.dumps(recorded))
    done = subprocess.run(["sh", "-c", again], cwd=tmp_path, env=user_env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    config = stack_config(tmp_path / "hello-fargate")
    assert (config["networking"], config["replicas"]) == ("private-single-nat", 2)


def test_a_replay_file_of_other_answers_is_not_named(tmp_path: Path, user_env: dict[str, str]) -> None:
    """With a --config-file the hook cannot see, cookiecutter writes its replay elsewhere: the hook finds only an
    older file under the usual name, holding other answers, and says nothing of it."""
    stale = tmp_path / "replay" / f"{TEMPLATE.name}.json"
    stale.parent.mkdir()
    stale.write_text(json.dumps({"cookiecutter": {"replicas": "1"}}))
    other = tmp_path / "other.yaml"
    other.write_text(f"replay_dir: {tmp_path / 'other-replay'}\n")
    command = [str(BIN / "cookiecutter"), "--no-input", "--config-file", str(other), str(TEMPLATE), "replicas=1"]
    done = subprocess.run(command, cwd=tmp_path, env=user_env, capture_output=True, text=True)
    assert "error: replicas=1 is out of range" in done.stderr
    assert (tmp_path / "other-replay" / f"{TEMPLATE.name}.json").exists()
    assert "Cookiecutter also saved them" not in done.stderr
