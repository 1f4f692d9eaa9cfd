"""A run that something newer has superseded is never re-run: not when a newer run of its
workflow on its branch exists, not when its branch has moved past its commit, not when someone
else already started a newer attempt of it, whenever that happened between detection and the
execute step (an approval can come hours after the gate).

Each example builds a branch's history in the GitHub sandbox (older runs, the failed run, then
newer runs of the same or another workflow on the same or another branch, pushes, a human's
rerun, each at a generated point of the pipeline) and takes the failure through the real
analyze, gate, approval and execute steps on the real Postgres. The sandbox's request log says
whether ci-remediator asked GitHub for a rerun.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from hypothesis import event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from ci_remediator.analysis.rules import load_knowledge_base
from ci_remediator.config import AppConfig, FileConfig, load_config
from ci_remediator.db.models import (
    ApprovalRequest,
    DetectionSource,
    Failure,
    GateDecision,
    Remediation,
    RemediationStatus,
)
from ci_remediator.domain import Decision, FailureState, Verdict
from ci_remediator.github.gateway import GitHubGateway
from ci_remediator.github.read_cache import MemoryReadCache
from ci_remediator.pipeline.analyze import analyze_failure
from ci_remediator.pipeline.decide import DecisionOutcome, decide_approval
from ci_remediator.pipeline.detect import record_failure
from ci_remediator.pipeline.execute import execute_remediation
from ci_remediator.pipeline.gate import gate_failure
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.scenarios import demo_log
from tests.integration.conftest import (  # noqa: F401 - engine: the session-scoped fixture
    engine,
    rolled_back,
)
from tests.properties.profiles import NO_EXPLAIN, examples

WEB = "acme/web"  # a network blip is re-run automatically here
PAYMENTS = "acme/payments"  # protected: only with a human's approval
FORK = "octo-fork/web"
APPROVER = "U0APPROVER"
OURS, SOMEONE_ELSE = "ghp_ci_remediator_token", "ghp_someone_elses_token"
WORKFLOW, OTHER_WORKFLOW = "CI", "Docs"
KNOWLEDGE_BASE = load_knowledge_base(None)
CONFIG = AppConfig(
    settings=load_config().settings,
    file=FileConfig.model_validate(
        {
            "repositories": [WEB, PAYMENTS],
            "protected_repositories": [PAYMENTS],
            "approvers": [APPROVER],
        }
    ),
)


class Moment(StrEnum):
    """Where in the pipeline something happens on GitHub."""

    BEFORE_ANALYSIS = "before the analysis"
    BEFORE_GATE = "between the analysis and the gate"
    BEFORE_EXECUTE = "between the gate (or the approval) and the execute step"


@dataclass(frozen=True)
class NewerRun:
    same_workflow: bool
    same_branch: bool
    conclusion: str
    seconds_later: int  # 0: created in the same second (run ids tell which is newer)


@dataclass(frozen=True)
class Push:
    moves: bool  # True: a new commit; False: the commit the branch has already, pushed again


@dataclass(frozen=True)
class HumanRerun:
    """Someone else starts a newer attempt of the failed run."""


Happening = NewerRun | Push | HumanRerun


@dataclass(frozen=True)
class BranchHistory:
    protected: bool
    from_fork: bool
    older_runs: tuple[str, ...]  # conclusions of older runs of the workflow on the branch
    happenings: tuple[tuple[Moment, Happening], ...]
    execute_deliveries: int

    def supersedes(self, happening: Happening) -> bool:
        """The run's own definition: a newer run of its workflow on its branch, the branch
        past its commit (a fork's branch is the fork's, not the base repository's of that
        name), or a newer attempt of the run."""
        if isinstance(happening, NewerRun):
            return happening.same_workflow and happening.same_branch
        if isinstance(happening, Push):
            return happening.moves and not self.from_fork
        return True

    @property
    def superseded(self) -> bool:
        return any(self.supersedes(happening) for _, happening in self.happenings)

    @property
    def superseded_before_the_analysis(self) -> bool:
        """What the analysis sees (and the gate weighs): a newer run or commit."""
        return any(
            moment is Moment.BEFORE_ANALYSIS
            and not isinstance(happening, HumanRerun)
            and self.supersedes(happening)
            for moment, happening in self.happenings
        )


# Mostly what supersedes: the same workflow on the same branch.
mostly = st.sampled_from([True, True, False])
newer_runs = st.builds(
    NewerRun,
    same_workflow=mostly,
    same_branch=mostly,
    conclusion=st.sampled_from(["failure", "success"]),
    seconds_later=st.integers(min_value=0, max_value=300),
)


@st.composite
def branch_histories(draw: st.DrawFn) -> BranchHistory:
    happening = st.one_of(newer_runs, st.builds(Push, moves=mostly))
    happenings = draw(st.lists(st.tuples(st.sampled_from(Moment), happening), max_size=4))
    human = draw(st.sampled_from([None, None, None, None, None, None, *Moment]))
    if human is not None:  # GitHub starts one attempt at a time: one human rerun at most
        position = draw(st.integers(min_value=0, max_value=len(happenings)))
        happenings.insert(position, (human, HumanRerun()))
    return BranchHistory(
        protected=draw(st.booleans()),
        from_fork=draw(st.sampled_from([False, False, True])),
        older_runs=tuple(draw(st.lists(st.sampled_from(["failure", "success"]), max_size=2))),
        happenings=tuple(happenings),
        execute_deliveries=draw(st.integers(min_value=1, max_value=2)),
    )


@dataclass
class Branch:
    """The branch's history being written into the sandbox."""

    github: GitHubSandbox
    repository: str
    branch: str
    head_repository: str | None
    failed_at: datetime
    run_id: int = 0
    head: str = ""  # the commit the branch points at
    pushes: int = 0

    def add_run(self, *, workflow: str, branch: str, conclusion: str, at: datetime) -> int:
        if conclusion == "success":
            return self.github.add_successful_run(
                self.repository,
                workflow_name=workflow,
                job_name="test",
                log_text="all tests passed\n",
                head_branch=branch,
                created_at=at,
            )
        return self.github.add_failed_run(
            self.repository,
            workflow_name=workflow,
            job_name="test",
            log_text=demo_log("network_blip.log"),
            head_branch=branch,
            created_at=at,
            head_repository=self.head_repository,
            event="pull_request" if self.head_repository else "push",
        )

    def happen(self, happening: Happening, human: GitHubGateway) -> None:
        if isinstance(happening, NewerRun):
            self.add_run(
                workflow=WORKFLOW if happening.same_workflow else OTHER_WORKFLOW,
                branch=self.branch if happening.same_branch else "elsewhere",
                conclusion=happening.conclusion,
                at=self.failed_at + timedelta(seconds=happening.seconds_later),
            )
        elif isinstance(happening, Push):
            if happening.moves:
                self.pushes += 1
                self.head = f"{self.pushes:040x}"
            self.github.set_branch_head(self.repository, self.branch, self.head)
        else:
            human.rerun_failed_jobs(self.repository, self.run_id)


def our_reruns(github: GitHubSandbox, repository: str, run_id: int) -> int:
    """Reruns of the run that ci-remediator's credential asked for (a human's are not ours)."""
    prefix = f"/repos/{repository}/actions/runs/{run_id}/rerun"
    return sum(
        1
        for request in github.requests
        if request.method == "POST"
        and request.path.startswith(prefix)
        and OURS in request.headers.get("authorization", "")
    )


# No explain phase: it replays a failing example's parts many times over (minutes here).
@settings(max_examples=examples(80), phases=NO_EXPLAIN)
@given(branch_histories())
def test_a_superseded_run_is_never_re_run(
    engine: Engine,  # noqa: F811 - the fixture imported above
    history: BranchHistory,
) -> None:
    """Property 67 (Safety Gate): superseded runs are never re-run: a run that a newer run of
    its workflow on its branch, a new commit of its branch or a newer attempt superseded at any
    point before the execute step gets no rerun from ci-remediator.

    And only those: a run nothing superseded is re-run, exactly once (so the property cannot
    hold by re-running nothing); one superseded before its analysis is blocked at the gate,
    never put to a human."""
    repository = PAYMENTS if history.protected else WEB
    with GitHubSandbox() as github, rolled_back(engine) as session:
        ours = GitHubGateway(base_url=github.url, token=OURS, read_cache=MemoryReadCache())
        human = GitHubGateway(base_url=github.url, token=SOMEONE_ELSE)
        failed_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
        branch = Branch(
            github,
            repository,
            "main",
            head_repository=FORK if history.from_fork else None,
            failed_at=failed_at,
        )
        for n, conclusion in enumerate(history.older_runs, start=1):
            branch.add_run(
                workflow=WORKFLOW,
                branch="main",
                conclusion=conclusion,
                at=failed_at - timedelta(minutes=n),
            )
        branch.run_id = branch.add_run(
            workflow=WORKFLOW, branch="main", conclusion="failure", at=failed_at
        )
        # The branch points at the run's commit; a fork's run was of the fork's branch, and the
        # base repository's branch of that name points elsewhere.
        run_commit = github.run_json(repository, branch.run_id)["head_sha"]
        branch.head = "beef" * 10 if history.from_fork else run_commit
        github.set_branch_head(repository, "main", branch.head)

        def happen(moment: Moment) -> None:
            for at, happening in history.happenings:
                if at is moment:
                    branch.happen(happening, human)

        failure_id = record_failure(
            session, run=ours.get_run(repository, branch.run_id), source=DetectionSource.WEBHOOK
        )
        assert failure_id is not None
        happen(Moment.BEFORE_ANALYSIS)
        analyze_failure(session, failure_id=failure_id, gateway=ours, knowledge_base=KNOWLEDGE_BASE)
        happen(Moment.BEFORE_GATE)
        gate_failure(session, failure_id=failure_id, config=CONFIG)
        verdict = session.scalar(
            select(GateDecision.verdict).where(GateDecision.failure_id == failure_id)
        )
        approval = session.scalar(
            select(ApprovalRequest).where(ApprovalRequest.failure_id == failure_id)
        )
        if approval is not None:
            decided = decide_approval(
                session,
                approval_id=approval.id,
                decision=Decision.APPROVE,
                decided_by=APPROVER,
                via="slack",
                config=CONFIG,
            )
            assert decided.outcome is DecisionOutcome.APPROVED
        happen(Moment.BEFORE_EXECUTE)
        for _ in range(history.execute_deliveries):
            execute_remediation(session, failure_id=failure_id, gateway=ours, verify_after_s=0)

        reruns = our_reruns(github, repository, branch.run_id)
        failure = session.get(Failure, failure_id)
        assert failure is not None
        remediation = session.scalar(
            select(Remediation).where(Remediation.failure_id == failure_id)
        )
        ours.close()
        human.close()

    event(f"superseded: {history.superseded}; verdict {verdict}")
    if history.superseded:
        assert reruns == 0, f"re-ran a superseded run ({history.happenings})"
    else:
        assert reruns == 1, f"a run nothing superseded was re-run {reruns} times"
        assert failure.state is FailureState.VERIFYING
    if history.superseded_before_the_analysis:
        assert verdict is Verdict.BLOCKED, "a superseded run went to a human or ran"
        assert remediation is None
    elif history.superseded and remediation is not None and reruns == 0:
        # Superseded after the analysis: the execute step refused it, or found the newer
        # attempt (someone else's) already there.
        assert remediation.status in (RemediationStatus.REFUSED, RemediationStatus.REQUESTED)
