"""Open a tracking issue with the analysis: one per failure fingerprint and repository.

It fixes nothing, so it hands the failure to people: once GitHub shows the issue, the failure is
escalated with its link. A failure with the same fingerprint while the issue is open finds it
(by the marker in its body) instead of opening another; the `close_tracking_issues` sweep
closes it when a later run of the workflow on the branch passes. Nothing to roll back: the
issue is how people take over.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ci_remediator.actions.base import Executed, Outcome, RemediationTarget

if TYPE_CHECKING:
    from ci_remediator.github.gateway import GitHubGateway

LABEL = "ci-remediator"


class OpenTrackingIssue:
    def prepare(self, gateway: GitHubGateway, target: RemediationTarget) -> Executed | None:
        return None  # one call does it all

    def execute(self, gateway: GitHubGateway, target: RemediationTarget) -> Executed:
        draft = target.issue
        if draft is None:
            raise ValueError("a tracking issue needs its draft")
        for issue in gateway.open_issues_labelled(target.repository, LABEL):
            if draft.marker in issue.body:
                # The same failure is tracked already (or this task ran before a crash).
                return Executed(
                    f"tracked in the open issue #{issue.number}",
                    {"issue_number": issue.number, "html_url": issue.html_url, "opened": False},
                )
        created = gateway.create_issue(
            target.repository, title=draft.title, body=draft.body, labels=(LABEL,)
        )
        return Executed(
            f"opened tracking issue #{created.number}",
            {"issue_number": created.number, "html_url": created.html_url, "opened": True},
        )

    def outcome(self, gateway: GitHubGateway, target: RemediationTarget) -> Outcome:
        number = int(target.result["issue_number"])
        issue = gateway.get_issue(target.repository, number)
        return Outcome(
            completed=True,
            succeeded=True,
            detail=f"tracking issue #{issue.number} is {issue.state}",
            result={"issue_state": issue.state},
        )

    def rollback(self, gateway: GitHubGateway, target: RemediationTarget) -> str | None:
        return None


OPEN_TRACKING_ISSUE = OpenTrackingIssue()
