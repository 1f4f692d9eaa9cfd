"""The vocabulary every part of ci-remediator shares: states, categories, actions, verdicts.

Nothing here does I/O. Values are plain enums and frozen dataclasses so they cross task
boundaries as JSON and compare by value in tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class FailureState(StrEnum):
    DETECTED = "detected"
    ANALYZING = "analyzing"
    ANALYZED = "analyzed"
    GATED = "gated"
    AWAITING_APPROVAL = "awaiting_approval"
    EXECUTING = "executing"
    VERIFYING = "verifying"
    RESOLVED = "resolved"
    REMEDIATION_FAILED = "remediation_failed"
    ROLLED_BACK = "rolled_back"
    REJECTED = "rejected"
    EXPIRED = "expired"
    ESCALATED = "escalated"
    ERRORED = "errored"

    @property
    def is_terminal(self) -> bool:
        return not ALLOWED_TRANSITIONS[self]


S = FailureState

# The lifecycle of DESIGN.md section 4. Every state not terminal may also go to ERRORED once its
# task's retries are exhausted; that edge is added below rather than repeated on every line.
_FORWARD: dict[FailureState, frozenset[FailureState]] = {
    S.DETECTED: frozenset({S.ANALYZING}),
    S.ANALYZING: frozenset({S.ANALYZED}),
    S.ANALYZED: frozenset({S.GATED}),
    S.GATED: frozenset({S.EXECUTING, S.AWAITING_APPROVAL, S.ESCALATED}),
    S.AWAITING_APPROVAL: frozenset({S.EXECUTING, S.REJECTED, S.EXPIRED}),
    S.EXECUTING: frozenset({S.VERIFYING, S.REMEDIATION_FAILED}),
    # A tracking issue hands the failure to people: once GitHub shows it open, it is escalated.
    S.VERIFYING: frozenset({S.RESOLVED, S.REMEDIATION_FAILED, S.ESCALATED}),
    S.REMEDIATION_FAILED: frozenset({S.ROLLED_BACK, S.ESCALATED}),
    S.RESOLVED: frozenset(),
    S.ROLLED_BACK: frozenset(),
    S.REJECTED: frozenset(),
    S.EXPIRED: frozenset(),
    S.ESCALATED: frozenset(),
    S.ERRORED: frozenset(),
}

ALLOWED_TRANSITIONS: dict[FailureState, frozenset[FailureState]] = {
    state: targets | {S.ERRORED} if targets else targets for state, targets in _FORWARD.items()
}

TERMINAL_STATES: frozenset[FailureState] = frozenset(
    state for state, targets in ALLOWED_TRANSITIONS.items() if not targets
)


class Category(StrEnum):
    TEST_FAILURE = "test_failure"
    FLAKY_TEST = "flaky_test"
    INFRASTRUCTURE = "infrastructure"
    DEPENDENCY = "dependency"
    COMPILE_ERROR = "compile_error"
    TYPE_CHECK = "type_check"
    LINT = "lint"
    CONFIGURATION = "configuration"
    PERMISSIONS = "permissions"
    TIMEOUT = "timeout"
    RESOURCE_EXHAUSTION = "resource_exhaustion"
    UNKNOWN = "unknown"


class ActionKind(StrEnum):
    """Remediations the catalog knows. Nothing outside this enum can ever be executed."""

    RERUN_FAILED_JOBS = "rerun_failed_jobs"
    RERUN_WORKFLOW = "rerun_workflow"
    RERUN_WITH_DEBUG_LOGGING = "rerun_with_debug_logging"
    CLEAR_CACHE_AND_RERUN = "clear_cache_and_rerun"
    OPEN_TRACKING_ISSUE = "open_tracking_issue"
    DISPATCH_REMEDIATION_WORKFLOW = "dispatch_remediation_workflow"
    NONE = "none"


class Verdict(StrEnum):
    AUTO = "auto"
    NEEDS_APPROVAL = "needs_approval"
    BLOCKED = "blocked"


class Effort(StrEnum):
    TRIVIAL = "trivial"
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


@dataclass(frozen=True, slots=True)
class AnalysisResult:
    """What an analyzer concluded about one failed run. Text fields are already redacted."""

    category: Category
    risk_score: int
    confidence: float
    flaky: bool
    summary: str
    root_cause: str
    proposed_action: ActionKind
    analyzer: str
    rule_id: str | None = None
    affected_components: tuple[str, ...] = ()
    effort: Effort = Effort.SMALL
    excerpt: str = ""
    tokens_used: int = 0
    latency_ms: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.risk_score <= 10:
            raise ValueError(f"risk_score must be within 0..10, got {self.risk_score}")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be within 0..1, got {self.confidence}")


@dataclass(frozen=True, slots=True)
class GateDecisionResult:
    verdict: Verdict
    effective_risk: int
    reasons: tuple[str, ...] = field(default_factory=tuple)
    # The remembered human decision that made this verdict, when one did.
    memory_id: int | None = None


class Step(StrEnum):
    """Pipeline steps a follow-up can name. The task of step X is named `ci_remediator.X`."""

    POLL_REPOSITORY = "poll_repository"
    ANALYZE = "analyze"
    GATE = "gate"
    REQUEST_APPROVAL = "request_approval"
    EXECUTE = "execute"
    VERIFY = "verify"
    ROLLBACK = "rollback"
    NOTIFY = "notify"


class StageEvent(StrEnum):
    """What a notification is about (the product README's notification stages)."""

    DETECTED = "detected"
    ANALYZED = "analyzed"
    APPROVAL_REQUESTED = "approval_requested"
    REMEDIATION_STARTED = "remediation_started"
    RESOLVED = "resolved"
    ESCALATED = "escalated"
    REJECTED = "rejected"
    EXPIRED = "expired"
    ERRORED = "errored"
    # Noise control: the first failure's message rewritten with the runs that repeated it.
    BURST = "burst"
    # This failure's gate tripped its organization's circuit breaker (told once).
    BREAKER_TRIPPED = "breaker_tripped"
    ROLLED_BACK = "rolled_back"


class Decision(StrEnum):
    """What a human decided about an approval request."""

    APPROVE = "approve"
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A task to send once the transaction that justified it has committed."""

    step: Step
    failure_id: int | None = None
    countdown_s: float = 0.0
    event: StageEvent | None = None
    repository: str | None = None

    def task_kwargs(self) -> dict[str, str | int]:
        """The keyword arguments of the step's task: ids and plain values only (JSON)."""
        kwargs: dict[str, str | int] = {}
        if self.failure_id is not None:
            kwargs["failure_id"] = self.failure_id
        if self.event is not None:
            kwargs["event"] = self.event.value
        if self.repository is not None:
            kwargs["repository"] = self.repository
        return kwargs


@dataclass(frozen=True, slots=True)
class StepResult:
    """What a pipeline step hands back to its task: the follow-ups to send after the commit.

    `waiting` means the outside world is not done yet (a re-run still running, Slack not
    taking messages): the task runs the step again after a countdown.
    """

    follow_ups: tuple[FollowUp, ...] = ()
    waiting: bool = False
    # How long the outside world asked us to wait (Slack's Retry-After), when it said.
    retry_after_s: float | None = None


NOTHING_TO_DO = StepResult()
