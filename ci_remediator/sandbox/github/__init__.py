"""A GitHub REST stand-in that the real PyGithub client talks to over HTTP.

The machines ci-remediator is built and tested on cannot reach GitHub, so this server speaks
the same protocol for the endpoints the service uses: runs (per repository or per workflow),
attempts, jobs, job logs (through a 302 to a signed blob URL, as GitHub does), a run's review
history, the remediation actions (rerun, rerun-failed-jobs, cancel, cache deletion, workflow
dispatch, issues), organisation and installation repository lists, GitHub App installation
tokens and rate_limit. Bodies are GitHub's published examples filled in, so field names and
types match what PyGithub expects.

Outcomes are scripted per run (what each rerun concludes, how many polls a rerun stays
running, a refused rerun), errors, latency and the rate budget per request, and every request
is recorded so tests can assert on what was asked.

The parts of `GitHubSandbox`, each a module:

- `scripting`: setting a scenario up (repositories, workflows, runs, caches, apps);
- `faults`: scripting errors, latency, the rate budget and revoked credentials;
- `recorder`: reading back the requests received and the state they left;
- `serving`: answering a request: credentials, rate budget, injected errors, routing;
- `runs`, `actions`, `apps`: the route handlers, by resource;
- `sandbox`: the class put together, and its table of routes;
- `base`: the state and lookups all of them share.

Beneath them: `model` (resources and GitHub's rules about them), `rest` (requests, responses,
routes, errors, pagination), `payloads` and `examples` (JSON bodies from GitHub's examples),
`app_registry` (GitHub App keys, JWT checks, installation tokens).
"""

from ci_remediator.sandbox.github.model import (
    AttemptRecord,
    DispatchRecord,
    IssueRecord,
    RecordedRequest,
)
from ci_remediator.sandbox.github.sandbox import GitHubSandbox

__all__ = [
    "AttemptRecord",
    "DispatchRecord",
    "GitHubSandbox",
    "IssueRecord",
    "RecordedRequest",
]
