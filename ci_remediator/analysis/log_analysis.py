"""One job log in, one analysis out: rules always, the model when it is worth its tokens.

Pure of the database, so the analyze step and `ci-remediator analyze-log` share it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from ci_remediator.analysis.rules import KnowledgeBase, analyze_with_rules
from ci_remediator.domain import AnalysisResult


class AnalyzerMode(StrEnum):
    RULES = "rules"
    LLM = "llm"
    AUTO = "auto"


class Usage(Protocol):
    @property
    def prompt_tokens(self) -> int: ...
    @property
    def completion_tokens(self) -> int: ...
    @property
    def cost_usd(self) -> float: ...


class ModelAnalyzer(Protocol):
    """The LLM analyzer's shape (ci_remediator.llm.client.LlmAnalyzer)."""

    @property
    def worst_case_s(self) -> float:
        """The longest one analysis can take: every attempt timing out, twice."""

    def analyze_with_usage(
        self, *, excerpt: str, rules_result: AnalysisResult, job_name: str, workflow_name: str
    ) -> tuple[AnalysisResult, Usage | None]: ...


class ModelUnavailableError(RuntimeError):
    """`--analyzer llm` was asked for but no model is configured."""


@dataclass(frozen=True, slots=True)
class LogAnalysis:
    result: AnalysisResult
    rules_result: AnalysisResult
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0


def analyze_log(
    log_text: str,
    *,
    knowledge_base: KnowledgeBase,
    model: ModelAnalyzer | None = None,
    mode: AnalyzerMode = AnalyzerMode.AUTO,
    skip_model_at_confidence: float = 0.8,
    job_name: str = "",
    workflow_name: str = "",
    failed_step_names: Sequence[str] = (),
    budget_chars: int = 12_000,
    rules_result: AnalysisResult | None = None,
) -> LogAnalysis:
    """`rules_result`, when the caller already has it, saves excerpting the log twice."""
    if rules_result is None:
        rules_result = analyze_with_rules(
            log_text,
            kb=knowledge_base,
            job_name=job_name,
            workflow_name=workflow_name,
            failed_step_names=failed_step_names,
            budget_chars=budget_chars,
        )
    if mode is AnalyzerMode.LLM and model is None:
        raise ModelUnavailableError("the LLM analyzer needs OPENAI_API_KEY")
    use_model = model is not None and (
        mode is AnalyzerMode.LLM
        or (mode is AnalyzerMode.AUTO and rules_result.confidence < skip_model_at_confidence)
    )
    if not use_model or model is None:
        return LogAnalysis(result=rules_result, rules_result=rules_result)
    result, usage = model.analyze_with_usage(
        excerpt=rules_result.excerpt,
        rules_result=rules_result,
        job_name=job_name,
        workflow_name=workflow_name,
    )
    return LogAnalysis(
        result=result,
        rules_result=rules_result,
        prompt_tokens=usage.prompt_tokens if usage else 0,
        completion_tokens=usage.completion_tokens if usage else 0,
        cost_usd=usage.cost_usd if usage else 0.0,
    )
