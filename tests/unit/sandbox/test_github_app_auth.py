"""GitHub App authentication against the sandbox: the JWT checks GitHub makes before issuing
an installation token, the token's reach, and the real PyGithub App flow end to end."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import github
import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from ci_remediator.sandbox.github import GitHubSandbox

REPO = "acme/widgets"
APP_ID = 4242
INSTALLATION_ID = 77


@pytest.fixture
def sandbox() -> Iterator[GitHubSandbox]:
    with GitHubSandbox() as started:
        started.add_repository("acme/private-notes")
        yield started


@pytest.fixture
def pem(sandbox: GitHubSandbox) -> str:
    return sandbox.register_app(APP_ID, installation_id=INSTALLATION_ID, repositories=[REPO])


def app_jwt(pem: str, **overrides: Any) -> str:
    """An app JWT as PyGithub makes it (iat 60 s back, 5 min life), claims overridable;
    None drops a claim. Signed through PyJWS because PyJWT refuses a numeric `iss`."""
    now = int(time.time())
    claims: dict[str, Any] = {"iat": now - 60, "exp": now + 300, "iss": str(APP_ID)}
    claims.update(overrides)
    payload = json.dumps({k: v for k, v in claims.items() if v is not None}).encode()
    return jwt.PyJWS().encode(payload, pem, algorithm="RS256", headers={"typ": "JWT"})


def create_token(
    sandbox: GitHubSandbox, token: str, installation_id: int = INSTALLATION_ID, **body: Any
) -> requests.Response:
    return requests.post(
        f"{sandbox.url}/app/installations/{installation_id}/access_tokens",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"},
        json=body,
        timeout=5,
    )


def get(sandbox: GitHubSandbox, path: str, token: str) -> requests.Response:
    return requests.get(sandbox.url + path, headers={"Authorization": f"token {token}"}, timeout=5)


def test_register_app_returns_an_rsa_private_key_pem(sandbox: GitHubSandbox, pem: str) -> None:
    again = sandbox.register_app(APP_ID, installation_id=78, account="acme")

    assert pem.startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert again == pem  # one key pair per app, shared by its installations


def test_a_valid_jwt_gets_an_installation_token(sandbox: GitHubSandbox, pem: str) -> None:
    response = create_token(sandbox, app_jwt(pem))
    body = response.json()

    assert response.status_code == 201
    assert body["token"].startswith("ghs_")
    assert len(body["token"]) == 40
    assert body["repository_selection"] == "selected"
    assert [r["full_name"] for r in body["repositories"]] == [REPO]
    assert body["permissions"]["actions"] == "write"
    assert body["expires_at"].endswith("Z")
    assert sandbox.tokens_issued == 1


def test_iss_may_be_a_number(sandbox: GitHubSandbox, pem: str) -> None:
    assert create_token(sandbox, app_jwt(pem, iss=APP_ID)).status_code == 201


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        (
            {"exp": -30},
            "'Expiration time' claim ('exp') must be a numeric value representing the future "
            "time at which the assertion expires",
        ),
        ({"exp": 900}, "'Expiration time' claim ('exp') is too far in the future"),
        (
            {"iat": 300},
            "'Issued at' claim ('iat') must be an Integer representing the time that the "
            "assertion was issued",
        ),
        ({"iss": "999"}, "A JSON web token could not be decoded"),
        ({"iss": None}, "A JSON web token could not be decoded"),
    ],
    ids=["expired", "exp-too-far", "iat-in-future", "unknown-app", "no-iss"],
)
def test_jwts_github_would_refuse_get_401(
    sandbox: GitHubSandbox, pem: str, claims: dict[str, Any], message: str
) -> None:
    now = int(time.time())
    timed = {k: now + v if k in ("exp", "iat") else v for k, v in claims.items()}

    response = create_token(sandbox, app_jwt(pem, **timed))

    assert response.status_code == 401
    assert response.json()["message"] == message
    assert sandbox.tokens_issued == 0


def test_a_jwt_signed_with_another_key_or_not_a_jwt_gets_401(
    sandbox: GitHubSandbox, pem: str
) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    forged = jwt.encode({"iat": now - 60, "exp": now + 300, "iss": str(APP_ID)}, stranger, "RS256")

    assert create_token(sandbox, forged).status_code == 401
    assert create_token(sandbox, "ghp_not_a_jwt").status_code == 401
    symmetric = jwt.encode({"iat": now, "exp": now + 60, "iss": str(APP_ID)}, "k" * 32, "HS256")
    assert create_token(sandbox, symmetric).status_code == 401


def test_unknown_or_foreign_installation_is_404(sandbox: GitHubSandbox, pem: str) -> None:
    other_pem = sandbox.register_app(9, installation_id=90, repositories=["other/repo"])

    assert create_token(sandbox, app_jwt(pem), installation_id=12345).status_code == 404
    assert create_token(sandbox, app_jwt(pem), installation_id=90).status_code == 404
    assert create_token(sandbox, app_jwt(other_pem, iss="9"), installation_id=90).status_code == 201


def test_requested_permissions_narrow_the_token_and_cannot_widen_it(
    sandbox: GitHubSandbox, pem: str
) -> None:
    narrowed = create_token(sandbox, app_jwt(pem), permissions={"actions": "read"})
    widened = create_token(sandbox, app_jwt(pem), permissions={"administration": "write"})

    assert narrowed.status_code == 201
    assert narrowed.json()["permissions"] == {"actions": "read"}
    assert widened.status_code == 422


def test_installation_token_reaches_only_the_installations_repositories(
    sandbox: GitHubSandbox, pem: str
) -> None:
    token = create_token(sandbox, app_jwt(pem)).json()["token"]

    listed = get(sandbox, "/installation/repositories", token)

    assert get(sandbox, f"/repos/{REPO}", token).status_code == 200
    assert get(sandbox, "/repos/acme/private-notes", token).status_code == 404
    assert get(sandbox, "/repos/acme/widgets", "ghs_" + "x" * 36).status_code == 401
    assert listed.status_code == 200
    assert listed.json()["total_count"] == 1
    assert [r["full_name"] for r in listed.json()["repositories"]] == [REPO]
    assert get(sandbox, "/installation/repositories", "ghp_personal").status_code == 403


def test_all_repositories_installation_lists_the_accounts_repositories(
    sandbox: GitHubSandbox,
) -> None:
    sandbox.add_repository("acme/api")
    sandbox.add_repository("other/thing")
    pem = sandbox.register_app(5, installation_id=50, account="acme")
    token = create_token(sandbox, app_jwt(pem, iss="5"), installation_id=50).json()

    first = get(sandbox, "/installation/repositories?per_page=1", token["token"])

    assert token["repository_selection"] == "all"
    assert "repositories" not in token
    assert first.json()["total_count"] == 2
    assert 'rel="next"' in first.headers["Link"]


def test_revoked_and_expired_installation_tokens_get_401(sandbox: GitHubSandbox) -> None:
    pem = sandbox.register_app(APP_ID, installation_id=1, repositories=[REPO], token_ttl_s=1)
    revoked = create_token(sandbox, app_jwt(pem), installation_id=1).json()["token"]
    expiring = create_token(sandbox, app_jwt(pem), installation_id=1).json()["token"]
    sandbox.revoke_token(revoked)

    assert get(sandbox, f"/repos/{REPO}", revoked).json()["message"] == "Bad credentials"
    time.sleep(1.1)
    assert get(sandbox, f"/repos/{REPO}", expiring).status_code == 401


def test_installation_is_found_by_id_and_by_repository(sandbox: GitHubSandbox, pem: str) -> None:
    bearer = {"Authorization": f"Bearer {app_jwt(pem)}"}

    def as_app(path: str) -> requests.Response:
        return requests.get(sandbox.url + path, headers=bearer, timeout=5)

    by_id = as_app(f"/app/installations/{INSTALLATION_ID}")
    by_repo = as_app(f"/repos/{REPO}/installation")
    elsewhere = as_app("/repos/acme/private-notes/installation")
    with_pat = get(sandbox, f"/app/installations/{INSTALLATION_ID}", "ghp_personal")

    assert (by_id.json()["id"], by_id.json()["app_id"]) == (INSTALLATION_ID, APP_ID)
    assert by_id.json()["account"]["login"] == "acme"
    assert by_repo.json()["id"] == INSTALLATION_ID
    assert elsewhere.status_code == 404
    assert with_pat.status_code == 401


def test_pygithub_app_installation_auth_lists_runs_with_one_cached_token(
    sandbox: GitHubSandbox, pem: str
) -> None:
    run_id = sandbox.add_failed_run(REPO, workflow_name="CI", job_name="tests", log_text="x\n")
    auth = github.Auth.AppAuth(APP_ID, pem).get_installation_auth(INSTALLATION_ID)
    client = github.Github(base_url=sandbox.url, auth=auth, retry=None)

    runs = [run.id for run in client.get_repo(REPO).get_workflow_runs()]
    again = client.get_repo(REPO).get_workflow_run(run_id)

    assert runs == [run_id]
    assert again.conclusion == "failure"
    assert sandbox.tokens_issued == 1  # PyGithub reuses the token until it nears expiry
    token_requests = [r for r in sandbox.requests if r.path.startswith("/app/")]
    assert [r.headers["authorization"].split(" ")[0] for r in token_requests] == ["Bearer"]
    client.close()


def test_pygithub_refreshes_a_token_that_is_about_to_expire(sandbox: GitHubSandbox) -> None:
    # PyGithub renews a token 20 s before it expires: a 20 s token is renewed on every call.
    pem = sandbox.register_app(APP_ID, installation_id=3, repositories=[REPO], token_ttl_s=20)
    auth = github.Auth.AppAuth(APP_ID, pem).get_installation_auth(3)
    client = github.Github(base_url=sandbox.url, auth=auth, retry=None)

    client.get_repo(REPO)
    client.get_repo(REPO)

    assert sandbox.tokens_issued == 2
    client.close()


def test_pygithub_integration_finds_installations_and_their_repositories(
    sandbox: GitHubSandbox, pem: str
) -> None:
    integration = github.GithubIntegration(
        auth=github.Auth.AppAuth(APP_ID, pem), base_url=sandbox.url
    )

    installation = integration.get_app_installation(INSTALLATION_ID)
    found = integration.get_repo_installation("acme", "widgets")

    assert (installation.id, installation.app_id) == (INSTALLATION_ID, APP_ID)
    assert found.id == INSTALLATION_ID
    assert [repo.full_name for repo in installation.get_repos()] == [REPO]
    integration.close()
