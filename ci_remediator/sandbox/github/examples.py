"""GitHub's published examples (``data/github_examples.json``) and the pieces the sandbox's JSON
bodies are made of: an example deep-copied and pointed at the sandbox, an owner, a repository
in its minimal and listed shapes, a label, a node id.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Callable, Sequence
from importlib import resources
from typing import Any

from ci_remediator.sandbox.github.model import Repository, iso

__all__ = ["Examples", "node_id"]


class Examples:
    """GitHub's examples, and the pieces cut from them that several bodies share.

    `base_url` is asked each time because the sandbox knows its port only once started;
    `owner_id` gives a login its stable id.
    """

    def __init__(self, *, base_url: Callable[[], str], owner_id: Callable[[str], int]) -> None:
        data = resources.files("ci_remediator.sandbox").joinpath("data/github_examples.json")
        self._examples: dict[str, Any] = json.loads(data.read_text("utf-8"))["examples"]
        environments = resources.files("ci_remediator.sandbox").joinpath(
            "data/github_environments_example.json"
        )
        self._examples["environments"] = json.loads(environments.read_text("utf-8"))["example"]
        self._base_url = base_url
        self._owner_id = owner_id

    def _rebranded(self, example: Any, full_name: str | None = None) -> Any:
        """Deep-copy an example (a name or a piece of one), pointing its urls at this sandbox
        and its repository names at `full_name`."""
        if isinstance(example, str):
            example = self._examples[example]
        url = self._base_url()
        replacements = [("https://api.github.com", url), ("https://github.com", url)]
        if full_name is not None:
            owner = full_name.split("/", 1)[0]
            replacements += [
                ("octocat/Hello-World", full_name),
                ("octo-org/octo-repo", full_name),
                ("/users/octocat", f"/users/{owner}"),
                ("/orgs/octocat", f"/orgs/{owner}"),
            ]
        return _replace_strings(example, replacements)

    def _owner(self, template: dict[str, Any], login: str) -> dict[str, Any]:
        url = self._base_url()
        owner = copy.deepcopy(template)
        owner_id = self._owner_id(login)
        owner.update(
            login=login,
            id=owner_id,
            node_id=node_id("User", owner_id),
            url=f"{url}/users/{login}",
            html_url=f"{url}/{login}",
        )
        return owner

    def _minimal_repository(
        self, template: dict[str, Any], repository: Repository
    ) -> dict[str, Any]:
        body = copy.deepcopy(template)
        body.update(
            id=repository.repo_id,
            node_id=node_id("Repository", repository.repo_id),
            name=repository.name,
            full_name=repository.full_name,
            private=repository.private,
            fork=repository.fork,
            owner=self._owner(template["owner"], repository.owner),
            description=f"Sandbox repository {repository.full_name}",
        )
        return body

    def _listed_repository(
        self, template: dict[str, Any], repository: Repository
    ) -> dict[str, Any]:
        """A repository in a list (org, installation): the minimal shape, this repository."""
        body = self._minimal_repository(self._rebranded(template, repository.full_name), repository)
        body.update(
            default_branch=repository.default_branch,
            visibility="private" if repository.private else "public",
            created_at=iso(repository.created_at),
            updated_at=iso(repository.created_at),
            pushed_at=iso(repository.created_at),
        )
        return body

    def _label(self, template: dict[str, Any], repository: str, name: str) -> dict[str, Any]:
        label = copy.deepcopy(template)
        label_id = int(hashlib.sha256(f"{repository}:{name}".encode()).hexdigest()[:8], 16)
        label.update(
            id=label_id,
            node_id=node_id("Label", label_id),
            url=f"{self._base_url()}/repos/{repository}/labels/{name}",
            name=name,
            description=None,
            default=False,
        )
        return label


def node_id(kind: str, number: int) -> str:
    """A GraphQL node id in GitHub's legacy encoding (base64 of `0<len>:<Kind><id>`)."""
    return base64.b64encode(f"0{len(kind)}:{kind}{number}".encode()).decode()


def _replace_strings(value: Any, replacements: Sequence[tuple[str, str]]) -> Any:
    """A deep copy of `value` with each replacement applied to every string in it."""
    if isinstance(value, str):
        for old, new in replacements:
            value = value.replace(old, new)
        return value
    if isinstance(value, dict):
        return {key: _replace_strings(item, replacements) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_strings(item, replacements) for item in value]
    return value
