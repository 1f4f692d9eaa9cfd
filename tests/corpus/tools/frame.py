"""Wrap a tool's real output in the framing a CI system adds around it.

Usage:
    python tests/corpus/tools/frame.py --shape github_actions --job "test (3.12)" \
        --command "pytest -q" --exit-code 1 --output out.txt [--before setup.txt ...] \
        [--after cleanup.txt] [--literal-escapes] > raw.log

The framing is written from the shapes of real logs (the LogDx-CI dev cases for GitHub
Actions; GitLab's, Jenkins', Buildkite's and CircleCI's documented job-log formats). The
tool's output is never changed, except that `--literal-escapes` writes ESC as the two
characters `^[`, as logs copied out of some web views carry it. `--before` files are the
outputs of earlier, passing steps (an install, a build); `--after` is what ran after the
failing step. Line numbers in ground_truth.json are read from the framed result.
"""

# ruff: noqa: E501 - the framing lines are verbatim shapes of real logs
from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path

SHAPES = (
    "github_actions",
    "github_actions_plain",
    "gitlab",
    "jenkins",
    "buildkite",
    "circleci",
    "plain",
)


class Clock:
    """Monotonic fake timestamps so that framed logs are reproducible."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def tick(self, micros: int = 1_731) -> str:
        self.now += dt.timedelta(microseconds=micros)
        return self.now.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def github_lines(args: argparse.Namespace) -> Iterator[str]:
    yield "Current runner version: '2.333.1'"
    yield "##[group]Runner Image Provisioner"
    yield "Hosted Compute Agent"
    yield "Version: 20260213.493"
    yield "Azure Region: westus3"
    yield "##[endgroup]"
    yield "##[group]Operating System"
    yield "Ubuntu"
    yield "24.04.4"
    yield "LTS"
    yield "##[endgroup]"
    yield "##[group]GITHUB_TOKEN Permissions"
    yield "Contents: read"
    yield "Metadata: read"
    yield "##[endgroup]"
    yield "Secret source: Actions"
    yield "Prepare workflow directory"
    yield "Prepare all required actions"
    yield "Getting action download info"
    yield "Download action repository 'actions/checkout@v4' (SHA:11bd71901bbe5b1630ceea73d27597364c9af683)"
    yield f"Complete job name: {args.job}"
    yield "##[group]Run actions/checkout@v4"
    yield "with:"
    yield "  repository: example/project"
    yield "  token: ***"
    yield "  fetch-depth: 1"
    yield "##[endgroup]"
    yield "Syncing repository: example/project"
    yield "##[group]Getting Git version info"
    yield "Working directory is '/home/runner/work/project/project'"
    yield "[command]/usr/bin/git version"
    yield "git version 2.53.0"
    yield "##[endgroup]"
    yield "[command]/usr/bin/git -c protocol.version=2 fetch --no-tags --prune --no-recurse-submodules --depth=1 origin +4f1c2a9e0b7d3c5a8e6f2b1d0c9a8b7e6f5d4c3b:refs/remotes/origin/main"
    yield "From https://github.com/example/project"
    yield " * [new ref]         4f1c2a9e0b7d3c5a8e6f2b1d0c9a8b7e6f5d4c3b -> origin/main"
    for index, before in enumerate(args.before):
        name = args.before_command[index] if index < len(args.before_command) else "make setup"
        yield f"##[group]Run {name}"
        yield name
        yield "shell: /usr/bin/bash -e {0}"
        yield "##[endgroup]"
        yield from read_lines(before)
    commands = args.command.splitlines()
    yield f"##[group]Run {commands[0]}"
    yield from commands
    yield "shell: /usr/bin/bash -e {0}"
    yield "env:"
    yield "  CI: true"
    yield "##[endgroup]"
    yield from read_lines(args.output)
    if args.exit_code:
        yield f"##[error]Process completed with exit code {args.exit_code}."
    if args.after:
        yield "##[group]Run actions/upload-artifact@v4"
        yield "##[endgroup]"
        yield from read_lines(args.after)
    yield "Post job cleanup."
    yield "[command]/usr/bin/git version"
    yield "git version 2.53.0"
    yield "Temporarily overriding HOME='/home/runner/work/_temp/0b5b' before making global git config changes"
    yield "[command]/usr/bin/git config --local --name-only --get-regexp core\\.sshCommand"
    yield "Cleaning up orphan processes"


def gitlab_lines(args: argparse.Namespace) -> Iterator[str]:
    esc = "\x1b"
    yield f"{esc}[0KRunning with gitlab-runner 17.5.0 (5f5a5a5a){esc}[0;m"
    yield f"{esc}[0K  on docker-runner-1 abcDEF12, system ID: r_0123456789ab{esc}[0;m"
    yield f'section_start:1764000000:prepare_executor\r{esc}[0K{esc}[0K{esc}[36;1mPreparing the "docker" executor{esc}[0;m{esc}[0;m'
    yield f"{esc}[0KUsing Docker executor with image python:3.12 ...{esc}[0;m"
    yield f"section_end:1764000003:prepare_executor\r{esc}[0K"
    yield f"section_start:1764000003:get_sources\r{esc}[0K{esc}[0K{esc}[36;1mGetting source from Git repository{esc}[0;m{esc}[0;m"
    yield f"{esc}[32;1mFetching changes with git depth set to 20...{esc}[0;m"
    yield "Initialized empty Git repository in /builds/group/project/.git/"
    yield f"{esc}[32;1mChecking out 4f1c2a9e as detached HEAD (ref is main)...{esc}[0;m"
    yield f"section_end:1764000005:get_sources\r{esc}[0K"
    yield f'section_start:1764000005:step_script\r{esc}[0K{esc}[0K{esc}[36;1mExecuting "step_script" stage of the job script{esc}[0;m{esc}[0;m'
    for index, before in enumerate(args.before):
        name = args.before_command[index] if index < len(args.before_command) else "make setup"
        yield f"{esc}[32;1m$ {name}{esc}[0;m"
        yield from read_lines(before)
    for command in args.command.splitlines():
        yield f"{esc}[32;1m$ {command}{esc}[0;m"
    yield from read_lines(args.output)
    yield f"section_end:1764000090:step_script\r{esc}[0K"
    if args.after:
        yield f"section_start:1764000090:after_script\r{esc}[0K{esc}[0K{esc}[36;1mRunning after_script{esc}[0;m{esc}[0;m"
        yield from read_lines(args.after)
        yield f"section_end:1764000091:after_script\r{esc}[0K"
    yield f"section_start:1764000091:cleanup_file_variables\r{esc}[0K{esc}[0K{esc}[36;1mCleaning up project directory and file based variables{esc}[0;m{esc}[0;m"
    yield f"section_end:1764000092:cleanup_file_variables\r{esc}[0K"
    if args.exit_code:
        yield f"{esc}[31;1mERROR: Job failed: exit code {args.exit_code}"
        yield f"{esc}[0;m"


def jenkins_lines(args: argparse.Namespace) -> Iterator[str]:
    yield "Started by an SCM change"
    yield "Obtained Jenkinsfile from git https://git.example.com/project.git"
    yield "[Pipeline] Start of Pipeline"
    yield "[Pipeline] node"
    yield "Running on agent-7 in /var/lib/jenkins/workspace/project_main"
    yield "[Pipeline] {"
    yield "[Pipeline] stage"
    yield "[Pipeline] { (Checkout)"
    yield "[Pipeline] checkout"
    yield "The recommended git tool is: NONE"
    yield " > git rev-parse --resolve-git-dir /var/lib/jenkins/workspace/project_main/.git # timeout=10"
    yield "Checking out Revision 4f1c2a9e0b7d3c5a8e6f2b1d0c9a8b7e6f5d4c3b (refs/remotes/origin/main)"
    yield "[Pipeline] }"
    yield "[Pipeline] // stage"
    for index, before in enumerate(args.before):
        name = args.before_command[index] if index < len(args.before_command) else "make setup"
        yield "[Pipeline] sh"
        yield f"+ {name}"
        yield from read_lines(before)
    yield "[Pipeline] stage"
    yield f"[Pipeline] {{ ({args.job})"
    yield "[Pipeline] sh"
    for command in args.command.splitlines():
        yield f"+ {command}"
    yield from read_lines(args.output)
    yield "[Pipeline] }"
    yield "[Pipeline] // stage"
    if args.after:
        yield "[Pipeline] stage"
        yield "[Pipeline] { (Declarative: Post Actions)"
        yield from read_lines(args.after)
        yield "[Pipeline] }"
    yield "[Pipeline] }"
    yield "[Pipeline] // node"
    yield "[Pipeline] End of Pipeline"
    if args.exit_code:
        yield f"ERROR: script returned exit code {args.exit_code}"
        yield "Finished: FAILURE"


def buildkite_lines(args: argparse.Namespace) -> Iterator[str]:
    yield "~~~ Running agent environment hook"
    yield "~~~ Preparing working directory"
    yield "$ cd /var/lib/buildkite-agent/builds/agent-1/org/project"
    yield "$ git fetch -v --prune -- origin main"
    yield "$ git checkout -f 4f1c2a9e0b7d3c5a8e6f2b1d0c9a8b7e6f5d4c3b"
    for index, before in enumerate(args.before):
        name = args.before_command[index] if index < len(args.before_command) else "make setup"
        yield f"--- {name}"
        yield from read_lines(before)
    yield f"--- :test_tube: {args.job}"
    for command in args.command.splitlines():
        yield f"$ {command}"
    yield from read_lines(args.output)
    if args.exit_code:
        yield "^^^ +++"
        yield f"🚨 Error: The command exited with status {args.exit_code}"
    if args.after:
        yield "~~~ Running global pre-exit hook"
        yield from read_lines(args.after)
    yield "user command error: exit status " + str(args.exit_code)


def circleci_lines(args: argparse.Namespace) -> Iterator[str]:
    yield "Build-agent version 1.0.246000-5f3a2c1b (2026-11-20T10:00:00+0000)"
    yield "System information:"
    yield " Server Version: 24.0.9"
    yield " Storage Driver: overlay2"
    yield "Starting container cimg/base:current"
    yield "Spin up environment"
    yield "Checkout code"
    for index, before in enumerate(args.before):
        name = args.before_command[index] if index < len(args.before_command) else "make setup"
        yield f"#!/bin/bash -eo pipefail\n{name}"
        yield from read_lines(before)
    yield "#!/bin/bash -eo pipefail"
    yield from args.command.splitlines()
    yield from read_lines(args.output)
    if args.after:
        yield from read_lines(args.after)
    if args.exit_code:
        yield ""
        yield f"Exited with code exit status {args.exit_code}"
        yield "CircleCI received exit code " + str(args.exit_code)


def plain_lines(args: argparse.Namespace) -> Iterator[str]:
    for index, before in enumerate(args.before):
        name = args.before_command[index] if index < len(args.before_command) else "make setup"
        yield f"$ {name}"
        yield from read_lines(before)
    for command in args.command.splitlines():
        yield f"$ {command}"
    yield from read_lines(args.output)
    if args.after:
        yield from read_lines(args.after)


def frame(args: argparse.Namespace) -> str:
    if args.shape in ("github_actions", "github_actions_plain"):
        lines = list(github_lines(args))
        if args.shape == "github_actions":
            clock = Clock(dt.datetime(2026, 11, 20, 8, 28, 54, 339930, tzinfo=dt.UTC))
            lines = [f"{clock.tick()} {line}" for line in lines]
        text = "\ufeff" + "\n".join(lines) + "\n"
    else:
        render = {
            "gitlab": gitlab_lines,
            "jenkins": jenkins_lines,
            "buildkite": buildkite_lines,
            "circleci": circleci_lines,
            "plain": plain_lines,
        }[args.shape]
        text = "\n".join(render(args)) + "\n"
    if args.literal_escapes:
        text = text.replace("\x1b", "^[")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=SHAPES, required=True)
    parser.add_argument("--job", default="build")
    parser.add_argument("--command", required=True, help="the failing step's script")
    parser.add_argument("--exit-code", type=int, default=1)
    parser.add_argument("--output", type=Path, required=True, help="the failing step's output")
    parser.add_argument("--before", type=Path, action="append", default=[])
    parser.add_argument("--before-command", action="append", default=[])
    parser.add_argument("--after", type=Path)
    parser.add_argument("--literal-escapes", action="store_true")
    args = parser.parse_args(argv)
    sys.stdout.write(frame(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
