"""Failure analysis: log excerpts, secret redaction and the rules analyzer."""

from __future__ import annotations

from ci_remediator.analysis.excerpt import build_excerpt
from ci_remediator.analysis.redaction import redact
from ci_remediator.analysis.rules import (
    KnowledgeBase,
    KnowledgeBaseError,
    Rule,
    RuleMatch,
    analyze_with_rules,
    load_knowledge_base,
)

__all__ = [
    "KnowledgeBase",
    "KnowledgeBaseError",
    "Rule",
    "RuleMatch",
    "analyze_with_rules",
    "build_excerpt",
    "load_knowledge_base",
    "redact",
]
