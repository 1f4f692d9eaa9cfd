"""The GitHub sandbox's repository and GitHub App endpoints: a repository, an organisation's
repositories, and the App side: finding an installation with the app's JWT, exchanging the
JWT for an installation token, and listing the repositories that token reaches.

JWT checks are `app_registry`'s; a rejected JWT answers GitHub's 401 message for the reason.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from ci_remediator.sandbox.github.app_registry import (
    Installation,
    JWTRejectedError,
    permissions_granted,
)
from ci_remediator.sandbox.github.base import SandboxBase
from ci_remediator.sandbox.github.model import Repository
from ci_remediator.sandbox.github.rest import (
    Request,
    Response,
    error,
    first,
    json_response,
    not_found,
    paginate,
)

__all__ = ["AppEndpoints"]

_APP_DOCS = "https://docs.github.com/rest/apps/apps"


class AppEndpoints(SandboxBase):
    """Route handlers for repositories, installations and tokens (called under the lock)."""

    # -- repositories ----------------------------------------------------------------------

    def _get_repository(self, request: Request, full_name: str) -> Response:
        repository = self._repositories.get(full_name)
        if repository is None:
            return not_found()
        return json_response(self._payloads.repository(repository))

    def _list_org_repositories(self, request: Request, org: str) -> Response:
        repositories = [r for r in self._repositories.values() if r.owner.lower() == org.lower()]
        if not repositories:
            return not_found()
        if first(request.query, "sort") == "full_name":
            repositories.sort(key=lambda r: r.full_name.lower())
        else:  # GitHub's default: newest first
            repositories.sort(key=lambda r: (r.created_at, r.repo_id), reverse=True)
        page, links = paginate(repositories, request.query, self.url + request.path)
        return json_response([self._payloads.org_repository(r) for r in page], headers=links)

    # -- GitHub App installations and tokens -----------------------------------------------

    def _get_repository_installation(self, request: Request, full_name: str) -> Response:
        app_id, rejected = self._authenticate_app(request)
        if rejected is not None:
            return rejected
        for installation in self._apps.installations():
            if installation.app_id == app_id and installation.covers(full_name):
                return json_response(self._installation_json(installation))
        return not_found()

    def _own_installation(
        self, request: Request, installation_id: str
    ) -> tuple[Installation | None, Response | None]:
        """The app's installation, or the answer GitHub gives when it is not the app's."""
        app_id, rejected = self._authenticate_app(request)
        if rejected is not None:
            return None, rejected
        installation = self._apps.installation(int(installation_id))
        if installation is None or installation.app_id != app_id:
            return None, not_found()
        return installation, None

    def _get_installation(self, request: Request, installation_id: str) -> Response:
        installation, rejected = self._own_installation(request, installation_id)
        if installation is None:
            return rejected or not_found()
        return json_response(self._installation_json(installation))

    def _create_installation_token(self, request: Request, installation_id: str) -> Response:
        installation, rejected = self._own_installation(request, installation_id)
        if installation is None:
            return rejected or not_found()
        body = request.json()
        if body is None:
            return error(HTTPStatus.BAD_REQUEST, "Problems parsing JSON")
        requested = body.get("permissions") or {}
        if not permissions_granted(requested, installation.permissions):
            return error(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                "The permissions requested are not granted to this installation.",
                f"{_APP_DOCS}#create-an-installation-access-token-for-an-app",
            )
        issued = self._apps.issue_token(installation, requested)
        return json_response(
            self._payloads.installation_token(
                installation, issued, self._covered_repositories(installation)
            ),
            status=HTTPStatus.CREATED,
        )

    def _list_installation_repositories(self, request: Request) -> Response:
        issued = self._apps.token(request.token)
        installation = self._apps.installation(issued.installation_id) if issued else None
        if installation is None:
            return error(
                HTTPStatus.FORBIDDEN,
                "You must authenticate with an installation access token in order to list "
                "repositories for an installation.",
                "https://docs.github.com/rest/apps/installations",
            )
        repositories = self._covered_repositories(installation)
        page, links = paginate(repositories, request.query, self.url + request.path)
        body = {
            "total_count": len(repositories),
            "repository_selection": installation.repository_selection,
            "repositories": [self._payloads.installation_repository(r) for r in page],
        }
        return json_response(body, headers=links)

    # -- helpers ---------------------------------------------------------------------------

    def _authenticate_app(self, request: Request) -> tuple[int, Response | None]:
        try:
            return self._apps.authenticate_app(request.headers.get("authorization", "")), None
        except JWTRejectedError as exc:
            return 0, error(HTTPStatus.UNAUTHORIZED, str(exc), counts=False)

    def _covered_repositories(self, installation: Installation) -> list[Repository]:
        covered = [r for r in self._repositories.values() if installation.covers(r.full_name)]
        return sorted(covered, key=lambda r: r.full_name)

    def _installation_json(self, installation: Installation) -> dict[str, Any]:
        covered = self._covered_repositories(installation)
        # An "all" installation without a named account shows the owner it covers first.
        account = installation.account or (covered[0].owner if covered else "sandbox")
        return self._payloads.installation(installation, account)
