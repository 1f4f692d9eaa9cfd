"""Hand-written mutants of monitoring, the GitHub integration, error handling and request
signatures: one-line changes that the property tests named beside each must kill (some test
fails while the mutant is applied). Plain text substitutions, as in `tests.mutants.catalog`."""

from __future__ import annotations

from tests.mutants.mutant import Mutant

MONITORING = ("tests/properties/test_monitoring_properties.py",)
GITHUB = ("tests/properties/test_github_integration_properties.py",)
ERRORS = ("tests/properties/test_error_handling_properties.py",)
SIGNATURES = ("tests/properties/test_signature_properties.py",)

MUTANTS: tuple[Mutant, ...] = (
    # ------------------------------------------------------------------ Monitoring ----
    Mutant(
        "the poll reads only the newest page of runs",
        "ci_remediator/pipeline/detect.py",
        "            page = gateway.next_runs_page(repository, page)\n",
        "            page = None\n",
        MONITORING,
    ),
    Mutant(
        "a cancelled run counts as a failure",
        "ci_remediator/github/values.py",
        'FAILING_CONCLUSIONS = frozenset({"failure", "timed_out", "startup_failure"})',
        'FAILING_CONCLUSIONS = frozenset({"failure", "timed_out", "startup_failure", "cancelled"})',
        MONITORING,
    ),
    Mutant(
        "every run is read as its first attempt",
        "ci_remediator/github/values.py",
        'run_attempt=int(data.get("run_attempt") or 1),',
        "run_attempt=1,",
        MONITORING,
    ),
    Mutant(
        "the stored commit is cut to its short form",
        "ci_remediator/pipeline/detect.py",
        "            head_sha=run.head_sha,\n",
        "            head_sha=run.head_sha[:12],\n",
        MONITORING,
    ),
    Mutant(
        "a long wait for GitHub's reset is slept instead of skipped",
        "ci_remediator/github/budget.py",
        "            if wait > self.max_wait_s:\n",
        "            if wait > self.max_wait_s * 1000:\n",
        MONITORING,
    ),
    # ---------------------------------------------------------- GitHub Integration ----
    Mutant(
        "the credential's fingerprint is the token itself",
        "ci_remediator/github/credentials.py",
        'fingerprint=_fingerprint("token", token)',
        "fingerprint=token[:64]",
        GITHUB,
    ),
    Mutant(
        "a 500 from GitHub is taken as permanent",
        "ci_remediator/github/errors.py",
        "    if status >= 500 or status == 408:\n",
        "    if status > 500 or status == 408:\n",
        GITHUB + ERRORS,
    ),
    Mutant(
        "a 429 is a rate limit only when its message says so",
        "ci_remediator/github/errors.py",
        'if status == 429 or "secondary rate limit" in message.lower():',
        'if "secondary rate limit" in message.lower():',
        GITHUB,
    ),
    Mutant(
        "a skipped job counts as failed",
        "ci_remediator/github/values.py",
        '_NOT_FAILED = frozenset({"success", "skipped", "neutral"})',
        '_NOT_FAILED = frozenset({"success", "neutral"})',
        GITHUB,
    ),
    Mutant(
        "the budget reopens a minute before GitHub's reset",
        "ci_remediator/github/budget.py",
        'reset = float(headers["x-ratelimit-reset"])',
        'reset = float(headers["x-ratelimit-reset"]) - 60',
        GITHUB,
    ),
    Mutant(
        "a repeated secondary limit waits no longer than the first",
        "ci_remediator/github/budget.py",
        "until = now + min(SECONDARY_BACKOFF_FIRST_S * 2 ** (hits - 1), SECONDARY_BACKOFF_MAX_S)",
        "until = now + SECONDARY_BACKOFF_FIRST_S",
        GITHUB,
    ),
    # -------------------------------------------------------------- Error Handling ----
    Mutant(
        "a task's transient errors are retried for ever",
        "workers/base.py",
        "if is_transient(error) and self.request.retries < limit:",
        "if is_transient(error):",
        ERRORS,
    ),
    Mutant(
        "the sweep sends an analyzed failure back to analysis",
        "ci_remediator/pipeline/reconcile.py",
        "    FailureState.ANALYZED: Step.GATE,\n",
        "    FailureState.ANALYZED: Step.ANALYZE,\n",
        ERRORS,
    ),
    Mutant(
        "the sweep re-sends failures that are not stuck",
        "ci_remediator/pipeline/reconcile.py",
        "            Failure.updated_at < deadline,\n",
        "            Failure.updated_at <= now,\n",
        ERRORS,
    ),
    Mutant(
        "an errored failure's message goes to the alerts channel, not the critical one",
        "ci_remediator/slack/notifier.py",
        "        if message.event in CRITICAL_EVENTS:\n",
        "        if False:\n",
        ERRORS,
    ),
    Mutant(
        "a refused credential raises an alert every time",
        "workers/base.py",
        "        if newly:\n",
        "        if True:\n",
        ERRORS + GITHUB,
    ),
    Mutant(
        "the errored audit entry drops the error",
        "ci_remediator/db/transitions.py",
        'detail={"error": error[:2000]},',
        "detail={},",
        ERRORS,
    ),
    Mutant(
        "reads are tried once",
        "ci_remediator/github/gateway.py",
        "stop=stop_after_attempt(READ_ATTEMPTS),",
        "stop=stop_after_attempt(1),",
        ERRORS,
    ),
    Mutant(
        "a rollback redelivered after GitHub cancelled escalates instead",
        "ci_remediator/actions/reruns.py",
        'if attempt.conclusion == "cancelled":',
        "if False:",
        ERRORS,
    ),
    # ------------------------------------------------------------------ Signatures ----
    Mutant(
        "a GitHub signature is compared on its first characters only",
        "ci_remediator/github/webhook_signature.py",
        "return hmac.compare_digest(expected.encode(), header.encode())",
        "return hmac.compare_digest(expected.encode()[:24], header.encode()[:24])",
        SIGNATURES,
    ),
    Mutant(
        "a GitHub signature covers only the start of the body",
        "ci_remediator/github/webhook_signature.py",
        "hmac.new(secret.encode(), body, hashlib.sha256)",
        "hmac.new(secret.encode(), body[:16], hashlib.sha256)",
        SIGNATURES,
    ),
    Mutant(
        "Slack requests are left to Bolt: refusals go unaudited",
        "ci_remediator/web.py",
        "        if not signed_by_slack(body):\n",
        "        if False:\n",
        SIGNATURES,
    ),
    Mutant(
        "a Slack request with a malformed timestamp or signature crashes the endpoint",
        "ci_remediator/web.py",
        "        except (ValueError, TypeError):\n            return False\n",
        "        except ZeroDivisionError:\n            return False\n",
        SIGNATURES,
    ),
)
