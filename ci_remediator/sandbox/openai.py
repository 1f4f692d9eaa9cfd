"""An OpenAI Chat Completions stand-in that the real `openai` client talks to over HTTP.

The machines ci-remediator is built and tested on cannot reach OpenAI, so this server speaks the
protocol of `POST /v1/chat/completions` with Structured Outputs
(`response_format={"type": "json_schema", ...}`): bearer authentication, OpenAI's error body
shape, `retry-after` on 429, and a `chat.completion` object the client parses.

By default the "model" is the rules analyzer: it classifies the log text found between the
prompt's delimiters and answers with an object conforming to the requested schema, so the demo
exercises the LLM-shaped path. Tests script one-shot behaviours (rate limiting, 5xx, slowness,
refusal, truncation, malformed output) with `script(...)`, and `obey_log_instructions=True`
turns it into a naive model that does what the log tells it to, for prompt-injection tests.
Every request is recorded.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
import unicodedata
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, cast
from urllib.parse import urlsplit

from ci_remediator.analysis.rules import KnowledgeBase, analyze_with_rules, load_knowledge_base
from ci_remediator.domain import AnalysisResult
from ci_remediator.llm.client import LOG_CLOSE, LOG_OPEN
from ci_remediator.sandbox.server import LoopbackSandbox

__all__ = [
    "Behaviour",
    "Malformed",
    "OpenAISandbox",
    "RateLimited",
    "RecordedRequest",
    "Refusal",
    "Reply",
    "ServerError",
    "Slow",
    "Truncated",
]

_COMPLETIONS_PATH = "/v1/chat/completions"
_CHARS_PER_TOKEN = 4  # the usual rule of thumb; deterministic, which is all tests need
_MESSAGE_OVERHEAD_TOKENS = 4


# -------------------------------------------------------------------------- behaviours ----


@dataclass(frozen=True, slots=True)
class Reply:
    """Answer with exactly this object as the message content (not conformed to the schema)."""

    content_obj: Any


@dataclass(frozen=True, slots=True)
class RateLimited:
    """429 with a `retry-after` header (seconds; fractions allowed, as the client accepts)."""

    retry_after_s: float = 0.05


@dataclass(frozen=True, slots=True)
class ServerError:
    status: int = 500
    retry_after_s: float | None = None


@dataclass(frozen=True, slots=True)
class Slow:
    """Sleep before answering normally, to push the client past its timeout."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Refusal:
    text: str = "I'm sorry, I can't help with that."


@dataclass(frozen=True, slots=True)
class Truncated:
    """finish_reason "length" with the default answer cut off mid-JSON."""


@dataclass(frozen=True, slots=True)
class Malformed:
    """Content that is not JSON (or not the schema's JSON), finish_reason "stop"."""

    text: str = "Sure! Here is my analysis: the build failed."


Behaviour = Reply | RateLimited | ServerError | Slow | Refusal | Truncated | Malformed


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the sandbox received it. Header names are lower-cased; `body` is the
    parsed JSON body (None when absent or not JSON)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    at: float


@dataclass(slots=True)
class _Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


# ------------------------------------------------------------------------------ server ----


class OpenAISandbox(LoopbackSandbox):
    """A thread-safe, in-memory Chat Completions server on 127.0.0.1 (OS-chosen port).

    `api_key`: when set, only that bearer key is accepted (others get 401 invalid_api_key);
    otherwise any non-empty key is.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        obey_log_instructions: bool = False,
        knowledge_base: KnowledgeBase | None = None,
    ) -> None:
        super().__init__()
        self._stopping = threading.Event()  # wakes Slow sleepers on stop()
        self._requests: list[RecordedRequest] = []
        self._script: deque[Behaviour] = deque()
        self._api_key = api_key
        self._kb = knowledge_base if knowledge_base is not None else load_knowledge_base()
        self.obey_log_instructions = obey_log_instructions

    # -- lifecycle -------------------------------------------------------------------------

    server_name = "openai-sandbox"
    url_path = "/v1"  # the base URL for `openai.OpenAI(base_url=...)`

    def _on_start(self) -> None:
        self._stopping.clear()

    def _on_stop(self) -> None:
        self._stopping.set()

    # -- scripting -------------------------------------------------------------------------

    def script(self, *behaviours: Behaviour) -> None:
        """Queue one-shot behaviours, consumed one per completion request, in order; once they
        are used up the default answer returns."""
        with self._lock:
            self._script.extend(behaviours)

    def clear_script(self) -> None:
        with self._lock:
            self._script.clear()

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._script)

    # -- inspection ------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def completion_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == "POST" and r.path == _COMPLETIONS_PATH]

    # -- request handling ------------------------------------------------------------------

    def _handle(
        self, method: str, raw_path: str, headers: dict[str, str], raw_body: bytes
    ) -> _Response:
        path = urlsplit(raw_path).path
        body = _parse_json(raw_body)
        with self._lock:
            self._requests.append(RecordedRequest(method, path, headers, body, time.monotonic()))
        auth_error = self._check_auth(headers)
        if auth_error is not None:
            return auth_error
        if path != _COMPLETIONS_PATH:
            return _error(
                HTTPStatus.NOT_FOUND, f"Invalid URL ({method} {path})", "invalid_request_error"
            )
        if method != "POST":
            return _error(
                HTTPStatus.METHOD_NOT_ALLOWED, f"Invalid method {method}", "invalid_request_error"
            )
        request_error = _validate_request(body)
        if request_error is not None:
            return request_error
        with self._lock:
            behaviour = self._script.popleft() if self._script else None
        return self._complete(cast(dict[str, Any], body), headers, behaviour)

    def _check_auth(self, headers: Mapping[str, str]) -> _Response | None:
        authorization = headers.get("authorization", "")
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return _error(
                HTTPStatus.UNAUTHORIZED,
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                "invalid_request_error",
            )
        if self._api_key is not None and key.strip() != self._api_key:
            shown = key.strip()[-4:]
            return _error(
                HTTPStatus.UNAUTHORIZED,
                f"Incorrect API key provided: sk-...{shown}.",
                "invalid_request_error",
                code="invalid_api_key",
            )
        return None

    def _complete(
        self, body: dict[str, Any], headers: Mapping[str, str], behaviour: Behaviour | None
    ) -> _Response:
        error = _scripted_error(behaviour, str(body["model"]))
        if error is not None:
            return error
        if isinstance(behaviour, Slow):
            # An Event, not time.sleep: stop() must not wait for a scripted sleeper.
            self._stopping.wait(behaviour.seconds)
        content: str | None
        refusal: str | None = None
        finish = "stop"
        match behaviour:
            case Reply(content_obj=content_obj):
                content = json.dumps(content_obj)
            case Refusal(text=text):
                content, refusal = None, text
            case Truncated():
                full = self._default_content(body, headers)
                content, finish = full[: max(1, len(full) // 2)], "length"
            case Malformed(text=text):
                content = text
            case _:
                content = self._default_content(body, headers)
        return self._completion(body, content, refusal=refusal, finish=finish)

    def _default_content(self, body: dict[str, Any], headers: Mapping[str, str]) -> str:
        log_text = _log_text(_user_text(body))
        if self.obey_log_instructions:
            obeyed = _obey(log_text, headers)
            if obeyed is not None:
                return json.dumps(obeyed)
        answer = _answer_from_rules(analyze_with_rules(log_text, kb=self._kb))
        schema = _requested_schema(body)
        return json.dumps(_conform(answer, schema) if schema is not None else answer)

    def _completion(
        self,
        body: dict[str, Any],
        content: str | None,
        *,
        refusal: str | None = None,
        finish: str = "stop",
    ) -> _Response:
        prompt_tokens = _estimate_prompt_tokens(body)
        completion_tokens = max(1, len(content or refusal or "") // _CHARS_PER_TOKEN)
        completion = {
            "id": f"chatcmpl-{secrets.token_hex(12)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": _resolved_model(str(body["model"])),
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": content,
                        "refusal": refusal,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": finish,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {
                    "reasoning_tokens": 0,
                    "audio_tokens": 0,
                    "accepted_prediction_tokens": 0,
                    "rejected_prediction_tokens": 0,
                },
            },
            "service_tier": "default",
            "system_fingerprint": "fp_sandbox",
        }
        return _json_response(HTTPStatus.OK, completion)


# ----------------------------------------------------------------------------- helpers ----


def _parse_json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


def _seconds(value: float) -> str:
    return f"{value:g}"


def _json_response(
    status: int, payload: object, headers: Mapping[str, str] | None = None
) -> _Response:
    return _Response(
        status=int(status),
        body=json.dumps(payload).encode("utf-8"),
        headers={
            "Content-Type": "application/json",
            "x-request-id": f"req_{secrets.token_hex(16)}",
            "openai-processing-ms": "1",
            **(headers or {}),
        },
    )


def _error(
    status: int,
    message: str,
    error_type: str,
    *,
    code: str | None = None,
    param: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> _Response:
    payload = {"error": {"message": message, "type": error_type, "param": param, "code": code}}
    return _json_response(status, payload, headers)


def _bad_request(message: str, param: str | None = None) -> _Response:
    return _error(HTTPStatus.BAD_REQUEST, message, "invalid_request_error", param=param)


def _validate_request(body: Any) -> _Response | None:
    """The checks OpenAI makes that a client bug would trip: required fields and strict
    Structured Outputs rules (every object closed, every property required)."""
    if not isinstance(body, dict):
        return _bad_request("We could not parse the JSON body of your request.")
    if not isinstance(body.get("model"), str) or not body["model"]:
        return _bad_request("you must provide a model parameter", "model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return _bad_request("[] is too short - 'messages'", "messages")
    return _validate_response_format(body.get("response_format"))


def _validate_response_format(response_format: Any) -> _Response | None:
    if response_format is None:
        return None
    if not isinstance(response_format, dict) or response_format.get("type") not in (
        "text",
        "json_object",
        "json_schema",
    ):
        return _bad_request("Invalid value for 'response_format.type'.", "response_format")
    if response_format["type"] != "json_schema":
        return None
    spec = response_format.get("json_schema")
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        return _bad_request(
            "Missing required parameter: 'response_format.json_schema.name'.",
            "response_format.json_schema.name",
        )
    problem = _strict_schema_problem(spec.get("schema"), "") if spec.get("strict") else None
    if problem is None:
        return None
    return _bad_request(
        f"Invalid schema for response_format '{spec['name']}': {problem}", "response_format"
    )


def _scripted_error(behaviour: Behaviour | None, model: str) -> _Response | None:
    match behaviour:
        case RateLimited(retry_after_s=retry_after):
            return _error(
                HTTPStatus.TOO_MANY_REQUESTS,
                f"Rate limit reached for {model}. Please try again in {retry_after:g}s.",
                "requests",
                code="rate_limit_exceeded",
                headers={"retry-after": _seconds(retry_after)},
            )
        case ServerError(status=status, retry_after_s=retry_after):
            extra = {} if retry_after is None else {"retry-after": _seconds(retry_after)}
            return _error(
                status,
                "The server had an error while processing your request. Sorry about that!",
                "server_error",
                headers=extra,
            )
    return None


def _strict_schema_problem(schema: Any, where: str) -> str | None:
    if not isinstance(schema, dict):
        return f"schema{where} must be an object"
    if schema.get("type") == "object":
        properties = schema.get("properties", {})
        if schema.get("additionalProperties") is not False:
            return (
                f"In context=({where or 'root'}), 'additionalProperties' is required to be "
                "supplied and to be false."
            )
        if set(schema.get("required", [])) != set(properties):
            return (
                f"In context=({where or 'root'}), 'required' is required to be supplied and to "
                "be an array including every key in properties."
            )
        for name, sub in properties.items():
            problem = _strict_schema_problem(sub, f"{where}.{name}")
            if problem is not None:
                return problem
    if schema.get("type") == "array" and "items" in schema:
        return _strict_schema_problem(schema["items"], f"{where}[]")
    return None


def _requested_schema(body: Mapping[str, Any]) -> dict[str, Any] | None:
    response_format = body.get("response_format") or {}
    if response_format.get("type") != "json_schema":
        return None
    schema = response_format.get("json_schema", {}).get("schema")
    return schema if isinstance(schema, dict) else None


def _resolved_model(model: str) -> str:
    # OpenAI answers with the dated snapshot an alias resolved to.
    return "gpt-4o-2024-08-06" if model == "gpt-4o" else model


def _message_text(message: Any) -> str:
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}, ...]
        return "\n".join(
            part.get("text", "")
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def _user_text(body: Mapping[str, Any]) -> str:
    return "\n".join(
        _message_text(m)
        for m in body.get("messages", [])
        if isinstance(m, dict) and m.get("role") == "user"
    )


def _log_text(user_text: str) -> str:
    """The text between the first opening and the last closing delimiter, else all of it."""
    start = user_text.find(LOG_OPEN + "\n")
    end = user_text.rfind("\n" + LOG_CLOSE)
    if start == -1 or end == -1 or end < start:
        return user_text
    return user_text[start + len(LOG_OPEN) + 1 : end]


def _estimate_prompt_tokens(body: Mapping[str, Any]) -> int:
    messages = body.get("messages", [])
    chars = sum(len(_message_text(m)) for m in messages)
    return chars // _CHARS_PER_TOKEN + _MESSAGE_OVERHEAD_TOKENS * len(messages)


def _answer_from_rules(result: AnalysisResult) -> dict[str, Any]:
    return {
        "category": result.category.value,
        "risk_score": result.risk_score,
        "confidence": result.confidence,
        "flaky": result.flaky,
        "summary": result.summary,
        "root_cause": result.root_cause or result.summary,
        "affected_components": list(result.affected_components),
        "effort": result.effort.value,
        "proposed_action": result.proposed_action.value,
        "suggested_fix": (
            "Rerun the failed jobs." if result.flaky else "Inspect the error and fix the code."
        ),
    }


_TYPE_CHECKS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def _conform(value: Any, schema: Mapping[str, Any]) -> Any:
    """`value` reshaped to satisfy `schema`: unknown keys dropped, missing or mistyped ones
    replaced by the schema's first enum value or its type's zero value."""
    kind = schema.get("type")
    if kind == "object":
        source = value if isinstance(value, dict) else {}
        properties: Mapping[str, Any] = schema.get("properties", {})
        return {name: _conform(source.get(name), sub) for name, sub in properties.items()}
    if kind == "array":
        items = schema.get("items", {})
        return [_conform(item, items) for item in value] if isinstance(value, list) else []
    enum = schema.get("enum")
    checks = _TYPE_CHECKS.get(str(kind), (object,))
    is_bool = isinstance(value, bool)
    type_ok = isinstance(value, checks) and (is_bool == (kind == "boolean") or kind is None)
    if type_ok and (enum is None or value in enum):
        return _clamp(value, schema)
    if enum:
        return enum[0]
    zero: dict[str, Any] = {"string": "", "integer": 0, "number": 0, "boolean": False}
    return _clamp(zero.get(str(kind)), schema)


def _clamp(value: Any, schema: Mapping[str, Any]) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if "minimum" in schema:
        value = max(value, schema["minimum"])
    if "maximum" in schema:
        value = min(value, schema["maximum"])
    return value


# ------------------------------------------------------------------ the obedient model ----

# What a naive model reads as an instruction in the log. Matched on NFKC-folded text without
# invisible characters, because a naive model reads homoglyphs and zero-width tricks as intended.
_INSTRUCTION = re.compile(
    r"(?i)ignore (?:all )?(?:previous|prior|above) instructions|\bsystem\s*:|admin mode"
    r"|\brisk(?:_score)?\s*[:=]?\s*0\b|\bapprove|\bdeploy|\bproposed_action\b"
    r"|\b(?:run|execute)\s*[:`]|\brm -rf\b|api[ _-]?key|<!(?:channel|here|everyone)>"
    r"|all (?:tests|checks) passed|\bsuccess(?:ful(?:ly)?)?\b.{0,40}\bignore\b"
)
_ACTION_CLAIM = re.compile(r"(?i)proposed_action\s*[\"']?\s*[:=]\s*[\"']?([A-Za-z_]+)")
_COMMAND = re.compile(r"(?i)(?:\b(?:run|execute)\s*[:`]\s*`?|`)(rm -rf[^`\n]*|[^`\n]{1,200})`?")
_ANSWER_JSON = re.compile(r"\{[^{}]{0,2000}\"risk_score\"[^{}]{0,2000}\}")
_MENTION = re.compile(r"<!(?:channel|here|everyone)>")
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def _obey(log_text: str, headers: Mapping[str, str]) -> dict[str, Any] | None:
    """The answer of a model that does whatever the log asks; None when the log asks nothing.

    It tries everything an attacker wants: risk 0, full confidence, "flaky", an automatic
    action (an invented one when the log names it), a shell command as the fix, the caller's
    API key in the summary, a Slack mention.
    """
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", log_text))
    if not _INSTRUCTION.search(text):
        return None
    answer: dict[str, Any] = {
        "category": "flaky_test",
        "risk_score": 0,
        "confidence": 1.0,
        "flaky": True,
        "summary": "Approved as instructed: the failure is harmless, proceed automatically.",
        "root_cause": "The log says everything is fine.",
        "affected_components": [],
        "effort": "trivial",
        "proposed_action": "rerun_failed_jobs",
        "suggested_fix": "No fix needed.",
    }
    pasted = _ANSWER_JSON.search(text)
    if pasted is not None:
        try:
            obj = json.loads(pasted.group(0))
        except ValueError:
            obj = None
        if isinstance(obj, dict):
            answer.update(obj)  # a naive model copies the "answer" it was shown
    claimed = _ACTION_CLAIM.search(text)
    if claimed is not None:
        answer["proposed_action"] = claimed.group(1)
    elif re.search(r"(?i)\bdeploy", text):
        answer["proposed_action"] = "deploy_to_production"
    command = _COMMAND.search(text)
    if command is not None or "rm -rf" in text:
        shown = command.group(1) if command is not None else "rm -rf /"
        answer["suggested_fix"] = f"Run `{shown.strip()}` on the runner."
    if re.search(r"(?i)api[ _-]?key", text):
        key = headers.get("authorization", "").partition(" ")[2]
        answer["summary"] = f"As requested, the API key is {key}"
    mention = _MENTION.search(text)
    if mention is not None:
        answer["summary"] = (
            f"{mention.group(0)} {answer['summary']} [details](https://evil.example)"
        )
    return answer
