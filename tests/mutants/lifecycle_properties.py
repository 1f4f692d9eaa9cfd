"""Hand-written mutants of the lifecycle's once-only promises and of supersession, each killed
by the lifecycle state machine (Properties 62 and 69), the supersession property (67) or the
redelivery after a worker died past its GitHub call (75)."""

from __future__ import annotations

from tests.mutants.mutant import Mutant

LIFECYCLE = ("tests/properties/test_lifecycle_machine.py",)
SUPERSESSION = ("tests/properties/test_supersession_properties.py",)
# Property 75: every catalog action redelivered after its worker died past the GitHub call.
DIED_AFTER_ACTING = (
    "tests/properties/test_remediation_execution_properties.py::"
    "test_a_worker_that_dies_after_github_acted_is_redelivered_and_github_acts_once",
)

MUTANTS: tuple[Mutant, ...] = (
    # -- Lifecycle: every transition guarded and audited once --------------------------------
    Mutant(
        "a transition without its state guard (two workers both move the failure)",
        "ci_remediator/db/transitions.py",
        ".where(Failure.id == failure_id, Failure.state == source)",
        ".where(Failure.id == failure_id)",
        LIFECYCLE,
    ),
    Mutant(
        "our own rerun's attempt becomes a failure of its own",
        "ci_remediator/pipeline/detect.py",
        "if run.conclusion not in FAILING_CONCLUSIONS or started_by_us(session, run):",
        "if run.conclusion not in FAILING_CONCLUSIONS:",
        LIFECYCLE,
    ),
    # -- Remediation Execution: at most once, and only when allowed ------------------------
    Mutant(
        "the execute step reads its remediation without locking it (no once-only claim)",
        "ci_remediator/pipeline/execute.py",
        "        .limit(1)\n        .with_for_update()\n",
        "        .limit(1)\n",
        LIFECYCLE,
    ),
    Mutant(
        "a rerun is sent again though its attempt exists (a redelivery after a crash)",
        "ci_remediator/actions/reruns.py",
        "if latest.run_attempt >= target.target_attempt:",
        "if latest.run_attempt > target.target_attempt:",
        LIFECYCLE,
    ),
    Mutant(
        "a tracking issue is opened again after a crash",
        "ci_remediator/actions/tracking_issue.py",
        "if draft.marker in issue.body:",
        "if False:",
        DIED_AFTER_ACTING,
    ),
    Mutant(
        "the gate executes what needs a human's approval",
        "ci_remediator/pipeline/gate.py",
        "    if decision.verdict is Verdict.AUTO:",
        "    if decision.verdict is not Verdict.BLOCKED:",
        LIFECYCLE,
    ),
    Mutant(
        "a click after the approval deadline still decides",
        "ci_remediator/pipeline/decide.py",
        "    if now >= approval.expires_at:",
        "    if False:",
        LIFECYCLE,
    ),
    Mutant(
        "the expiry sweep expires requests already decided",
        "ci_remediator/pipeline/expire.py",
        "ApprovalRequest.status == ApprovalStatus.PENDING, ApprovalRequest.expires_at <= now",
        "ApprovalRequest.expires_at <= now",
        LIFECYCLE,
    ),
    # -- Safety Gate: superseded runs are never re-run -------------------------------------
    Mutant(
        "a branch moved past the run's commit does not supersede it",
        "ci_remediator/pipeline/superseded.py",
        "if head is not None and head != run.head_sha:",
        "if False:",
        SUPERSESSION,
    ),
    Mutant(
        "a fork's run is superseded by the base repository's branch of that name",
        "ci_remediator/pipeline/superseded.py",
        "    if run.head_branch and run.head_sha and not run.from_fork:",
        "    if run.head_branch and run.head_sha:",
        SUPERSESSION,
    ),
    Mutant(
        "the execute step re-runs what a newer run superseded since the gate",
        "ci_remediator/pipeline/execute.py",
        "        if newer is not None:",
        "        if False:",
        SUPERSESSION,
    ),
    Mutant(
        "the analysis forgets the newer run it found (the gate puts it to a human)",
        "ci_remediator/pipeline/analyze.py",
        "    failure.superseded_by_run_id = superseded.run_id",
        "    failure.superseded_by_run_id = None",
        SUPERSESSION,
    ),
    Mutant(
        "a newer run created in the same second is not newer",
        "ci_remediator/github/values.py",
        "(other.created_at, other.run_id) > (\n"
        "            run.created_at,\n            run.run_id,\n        ):",
        "other.created_at > run.created_at:",
        SUPERSESSION,
    ),
)
