"""Error codes and the one place where failures become GraphQL errors.

* Top-level GraphQL errors (``errors[].extensions.code``) for authentication, scope, malformed
  ids, scalars and arguments: the request as a whole could not be served.
* ``UserError { field code message }`` in mutation payloads for input the domain refused.

Messages are Persian: they are shown to the people who use the platform.
"""

from __future__ import annotations

import enum
import logging
import re

import strawberry
from django.core.exceptions import ValidationError
from django.db import OperationalError
from django.http import JsonResponse
from graphql import GraphQLError
from psycopg.errors import QueryCanceled

from schema.metrics import count_error

logger = logging.getLogger("mana.graphql")


@strawberry.enum(description="Machine-readable reason of an error; the message says it in Persian.")
class ErrorCode(enum.Enum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    INVALID_ID = "INVALID_ID"
    INVALID_CURSOR = "INVALID_CURSOR"
    INVALID_DATE = "INVALID_DATE"
    INVALID_DECIMAL = "INVALID_DECIMAL"
    INVALID_NATIONAL_CODE = "INVALID_NATIONAL_CODE"
    INVALID_MOBILE = "INVALID_MOBILE"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    PAGE_SIZE_EXCEEDED = "PAGE_SIZE_EXCEEDED"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    INVALID = "INVALID"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    # The database could not be reached in time (every pooled connection busy, or it is down).
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    # A statement ran past the database's statement timeout and was cancelled.
    STATEMENT_TIMEOUT = "STATEMENT_TIMEOUT"
    # The request body is larger than the endpoint accepts (HTTP 413).
    REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
    # The GraphQL document is longer, or has more tokens, than any real client sends.
    DOCUMENT_TOO_LARGE = "DOCUMENT_TOO_LARGE"
    # The document's estimated cost (connections multiply by first/last) is over the limit.
    QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
    # An operation that changes the session (login, logout) sent over WebSocket.
    NOT_OVER_WEBSOCKET = "NOT_OVER_WEBSOCKET"
    # More operations at once on one WebSocket than MANA_WS_MAX_SUBSCRIPTIONS (subscriptions/consumers.py).
    TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"
    # Password guessing: the account or the address is locked out for a while.
    LOGIN_LOCKED_OUT = "LOGIN_LOCKED_OUT"
    # More than one login in one document (aliases or several operations).
    ONE_LOGIN_PER_REQUEST = "ONE_LOGIN_PER_REQUEST"
    # A decimal with more digits, or more decimal places, than its column holds.
    DECIMAL_OUT_OF_RANGE = "DECIMAL_OUT_OF_RANGE"
    DECIMAL_TOO_PRECISE = "DECIMAL_TOO_PRECISE"
    # A negative value where the indicator's unit cannot be negative (a count).
    NEGATIVE_NOT_ALLOWED = "NEGATIVE_NOT_ALLOWED"
    # The referral workflow (models/workflow.py, models/evidence_files.py).
    NOT_ALLOWED = "NOT_ALLOWED"
    NOT_ASSIGNEE = "NOT_ASSIGNEE"
    NOT_REFERRER = "NOT_REFERRER"
    NOT_SUBORDINATE = "NOT_SUBORDINATE"
    ASSIGNEE_REQUIRED = "ASSIGNEE_REQUIRED"
    DEADLINE_AFTER_PARENT = "DEADLINE_AFTER_PARENT"
    DEADLINE_OUTSIDE_PERIOD = "DEADLINE_OUTSIDE_PERIOD"
    ALREADY_REFERRED = "ALREADY_REFERRED"
    ALREADY_SPLIT = "ALREADY_SPLIT"
    NOT_SPLIT = "NOT_SPLIT"
    NO_BREAKDOWN = "NO_BREAKDOWN"
    BREAKDOWN_INVALID = "BREAKDOWN_INVALID"
    BREAKDOWN_BY_REQUIRED = "BREAKDOWN_BY_REQUIRED"
    PROVINCE_REQUIRED = "PROVINCE_REQUIRED"
    UNKNOWN_PROVINCE = "UNKNOWN_PROVINCE"
    SLICES_REQUIRED = "SLICES_REQUIRED"
    SLICE_PROVINCE_DUPLICATE = "SLICE_PROVINCE_DUPLICATE"
    SLICE_TARGET_INVALID = "SLICE_TARGET_INVALID"
    SLICE_TARGETS_INCONSISTENT = "SLICE_TARGETS_INCONSISTENT"
    INVALID_STATE = "INVALID_STATE"
    ASSIGNMENT_FINALIZED = "ASSIGNMENT_FINALIZED"
    VALUE_REQUIRED = "VALUE_REQUIRED"
    REASON_REQUIRED = "REASON_REQUIRED"
    NOTHING_TO_SEND = "NOTHING_TO_SEND"
    FILE_NAME_INVALID = "FILE_NAME_INVALID"
    FILE_TYPE_NOT_ALLOWED = "FILE_TYPE_NOT_ALLOWED"
    FILE_CONTENT_MISMATCH = "FILE_CONTENT_MISMATCH"
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    FILE_EMPTY = "FILE_EMPTY"
    # Macro-enabled Office documents (a VBA project) are refused as evidence.
    FILE_MACROS_NOT_ALLOWED = "FILE_MACROS_NOT_ALLOWED"
    # A ZIP-based file (DOCX, XLSX) that expands past the size or ratio limit (a zip bomb).
    FILE_ARCHIVE_TOO_LARGE = "FILE_ARCHIVE_TOO_LARGE"
    # Sina sign-in (integrations/sina.py): sent back as ?error=… of the failure URL.
    SINA_DISABLED = "SINA_DISABLED"
    SINA_STATE_MISMATCH = "SINA_STATE_MISMATCH"
    SINA_ACCESS_DENIED = "SINA_ACCESS_DENIED"
    SINA_PROVIDER_ERROR = "SINA_PROVIDER_ERROR"
    SINA_UNAVAILABLE = "SINA_UNAVAILABLE"
    SINA_TIMEOUT = "SINA_TIMEOUT"
    SINA_INVALID_TOKEN = "SINA_INVALID_TOKEN"
    SINA_NONCE_MISMATCH = "SINA_NONCE_MISMATCH"
    SINA_NATIONAL_CODE_MISSING = "SINA_NATIONAL_CODE_MISSING"
    SINA_UNKNOWN_USER = "SINA_UNKNOWN_USER"
    SINA_NOT_MAIN_LEADER = "SINA_NOT_MAIN_LEADER"
    SINA_USER_INACTIVE = "SINA_USER_INACTIVE"
    SINA_FAILED = "SINA_FAILED"
    # Identity (models/captcha.py, models/one_time_codes.py, models/passwords.py, models/registration.py).
    CAPTCHA_INVALID = "CAPTCHA_INVALID"
    OTP_INVALID = "OTP_INVALID"
    OTP_EXPIRED = "OTP_EXPIRED"
    OTP_USED = "OTP_USED"
    OTP_TOO_MANY_TRIES = "OTP_TOO_MANY_TRIES"
    TOO_MANY_CODES = "TOO_MANY_CODES"
    PASSWORD_CHANGE_REQUIRED = "PASSWORD_CHANGE_REQUIRED"
    WEAK_PASSWORD = "WEAK_PASSWORD"
    INVALID_LANDLINE = "INVALID_LANDLINE"
    UNKNOWN_PERSON = "UNKNOWN_PERSON"
    BIRTH_DATE_MISMATCH = "BIRTH_DATE_MISMATCH"
    MOBILE_MISMATCH = "MOBILE_MISMATCH"
    MOBILE_TAKEN = "MOBILE_TAKEN"
    UNKNOWN_APPROVER = "UNKNOWN_APPROVER"
    ORGANIZATION_TOO_GENERAL = "ORGANIZATION_TOO_GENERAL"
    ROLE_NOT_REQUESTABLE = "ROLE_NOT_REQUESTABLE"
    DUPLICATE_REQUEST = "DUPLICATE_REQUEST"
    IDENTITY_SERVICE_UNAVAILABLE = "IDENTITY_SERVICE_UNAVAILABLE"
    # Refused to a caller authenticated by an API token (switching role, minting more tokens).
    NOT_WITH_TOKEN = "NOT_WITH_TOKEN"
    # API tokens (models/api_tokens.py). On HTTP the first three are a 401 with
    # «WWW-Authenticate: Bearer error="invalid_token"»; unknown, malformed and wrong tokens (and
    # those of a deactivated owner) are all INVALID_TOKEN, so that nothing is learnt by probing.
    INVALID_TOKEN = "INVALID_TOKEN"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    TOKEN_REVOKED = "TOKEN_REVOKED"
    # Too many requests with one API token in the current window (HTTP 429, Retry-After).
    RATE_LIMITED = "RATE_LIMITED"
    TOKEN_NAME_REQUIRED = "TOKEN_NAME_REQUIRED"
    TOKEN_NAME_TOO_LONG = "TOKEN_NAME_TOO_LONG"
    # The owner already has an unrevoked token of that name.
    TOKEN_NAME_TAKEN = "TOKEN_NAME_TAKEN"
    # A token is made for one of one's own roles only.
    NOT_OWN_ROLE = "NOT_OWN_ROLE"
    EXPIRY_IN_PAST = "EXPIRY_IN_PAST"
    # An expiry past what the database and Python's datetime can hold (the year 9999).
    EXPIRY_TOO_FAR = "EXPIRY_TOO_FAR"
    # Excel imports (models/excel_import.py): the upload is not an XLSX workbook; then, per row of a
    # refused job (ImportJob.problems), what is wrong with it.
    FILE_NOT_XLSX = "FILE_NOT_XLSX"
    WRONG_HEADERS = "WRONG_HEADERS"
    IMPORT_EMPTY = "IMPORT_EMPTY"
    IMPORT_TOO_MANY_ROWS = "IMPORT_TOO_MANY_ROWS"
    IMPORT_FAILED = "IMPORT_FAILED"
    TOO_MANY_PROBLEMS = "TOO_MANY_PROBLEMS"
    INVALID_CHOICE = "INVALID_CHOICE"
    WEIGHT_NOT_POSITIVE = "WEIGHT_NOT_POSITIVE"
    DUPLICATE_ROW = "DUPLICATE_ROW"
    INDICATOR_MISMATCH = "INDICATOR_MISMATCH"
    UNKNOWN_ORGANIZATION = "UNKNOWN_ORGANIZATION"
    ASSIGNMENT_EXISTS = "ASSIGNMENT_EXISTS"
    ORGANIZATION_EXISTS = "ORGANIZATION_EXISTS"
    PROVINCE_NOT_ALLOWED = "PROVINCE_NOT_ALLOWED"
    UNKNOWN_PARENT = "UNKNOWN_PARENT"
    PARENT_CYCLE = "PARENT_CYCLE"
    # Evaluation (models/evaluation_workflow.py) and non-applicability requests (models/non_applicability.py).
    NOT_SENT_FOR_EVALUATION = "NOT_SENT_FOR_EVALUATION"
    NOT_EVALUATOR = "NOT_EVALUATOR"
    SCORE_ABOVE_CAP = "SCORE_ABOVE_CAP"
    FEEDBACK_REQUIRED = "FEEDBACK_REQUIRED"
    ALREADY_PUBLISHED = "ALREADY_PUBLISHED"
    NO_EVALUATION = "NO_EVALUATION"
    ASSIGNMENTS_REQUIRED = "ASSIGNMENTS_REQUIRED"
    NOT_APPLICABLE = "NOT_APPLICABLE"
    ALREADY_NOT_APPLICABLE = "ALREADY_NOT_APPLICABLE"
    REQUEST_PENDING = "REQUEST_PENDING"
    # Indicator proposals (models/proposals.py).
    PERIOD_CLOSED = "PERIOD_CLOSED"
    # A main leader proposing while the period's proposal switch for executive organizations is off.
    PROPOSALS_CLOSED = "PROPOSALS_CLOSED"
    OUT_OF_PROVINCE = "OUT_OF_PROVINCE"
    OUT_OF_SUBTREE = "OUT_OF_SUBTREE"
    PROPOSAL_OVER_CAP = "PROPOSAL_OVER_CAP"
    BOUNDS_OUT_OF_ORDER = "BOUNDS_OUT_OF_ORDER"
    SCORE_NOT_POSITIVE = "SCORE_NOT_POSITIVE"
    TITLE_REQUIRED = "TITLE_REQUIRED"
    UNIT_REQUIRED = "UNIT_REQUIRED"
    TEXT_TOO_LONG = "TEXT_TOO_LONG"
    ALREADY_REVIEWED = "ALREADY_REVIEWED"


class ManaError(GraphQLError):
    """A top-level error with a code; raise it from resolvers and scalars."""

    def __init__(self, code: ErrorCode, message: str, **extensions) -> None:
        super().__init__(message, extensions={"code": code.value, **extensions})
        self.code = code


UNAUTHENTICATED_MESSAGE = "ابتدا وارد سامانه شوید."


def unauthenticated() -> ManaError:
    return ManaError(ErrorCode.UNAUTHENTICATED, UNAUTHENTICATED_MESSAGE)


@strawberry.type(description="Why a mutation refused its input. Nothing was changed.")
class UserError:
    field: str | None
    code: ErrorCode
    message: str


def user_error_from_domain(error) -> UserError:
    """A domain refusal (models.errors.DomainError: code, message, field) as a payload error."""
    return UserError(field=error.field, code=ErrorCode(error.code), message=error.message)


def user_errors_from_validation(error: ValidationError) -> list[UserError]:
    """Django's ValidationError (from the domain) as payload errors, field by field."""
    known = {code.value for code in ErrorCode}
    result: list[UserError] = []
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            for item in errors:
                code = item.code if item.code in known else ErrorCode.INVALID.value
                result.append(
                    UserError(
                        field=None if field == "__all__" else _camel(field), code=ErrorCode(code), message=_text(item)
                    )
                )
    else:
        for item in error.error_list:
            code = item.code if item.code in known else ErrorCode.INVALID.value
            result.append(UserError(field=None, code=ErrorCode(code), message=_text(item)))
    return result


def _text(item: ValidationError) -> str:
    return item.message % item.params if item.params else str(item.message)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


INVALID_DOCUMENT_MESSAGE = "درخواست GraphQL با طرح (schema) سازگار نیست یا نگارش آن نادرست است."
INVALID_VARIABLES_MESSAGE = "مقدار متغیرهای درخواست با نوع اعلام‌شده آن‌ها سازگار نیست."
INTERNAL_MESSAGE = "خطای داخلی رخ داد؛ لطفاً دوباره تلاش کنید یا با پشتیبانی تماس بگیرید."
UNAVAILABLE_MESSAGE = "سامانه در این لحظه بیش از توان خود درخواست دارد؛ چند ثانیه دیگر دوباره تلاش کنید."
TIMEOUT_MESSAGE = (
    "پاسخ این درخواست بیش از زمان مجاز طول کشید و متوقف شد؛ دامنه آن را کوچک‌تر کنید یا بعداً دوباره تلاش کنید."
)


def _is_statement_timeout(error: BaseException | None) -> bool:
    """A statement PostgreSQL cancelled for running past ``statement_timeout`` (Django wraps it)."""
    while error is not None:
        if isinstance(error, QueryCanceled):
            return True
        error = error.__cause__
    return False


def _code_of(error: GraphQLError) -> str | None:
    original = error.original_error
    while original is not None:
        extensions = getattr(original, "extensions", None)
        if isinstance(extensions, dict) and extensions.get("code"):
            return extensions["code"]
        original = getattr(original, "original_error", None) or getattr(original, "__cause__", None)
    if isinstance(error.extensions, dict) and error.extensions.get("code"):
        return error.extensions["code"]
    return None


def format_error(error: GraphQLError) -> dict:
    """Every error leaves with a code; an unexpected exception leaves without its details."""
    code = _code_of(error)
    formatted = error.formatted
    if code is None:
        if error.original_error is None:
            # Raised by graphql-core itself: syntax, unknown field, wrong argument type.
            code = ErrorCode.GRAPHQL_VALIDATION_FAILED.value
            formatted["message"] = f"{INVALID_DOCUMENT_MESSAGE} ({error.message})"
        elif _is_statement_timeout(error.original_error):
            code = ErrorCode.STATEMENT_TIMEOUT.value
            formatted["message"] = TIMEOUT_MESSAGE
        elif isinstance(error.original_error, OperationalError):
            # The database went away, or no pooled connection freed up in time, while resolving.
            logger.error("Database unavailable in GraphQL execution", exc_info=error.original_error)
            code = ErrorCode.SERVICE_UNAVAILABLE.value
            formatted["message"] = UNAVAILABLE_MESSAGE
        elif isinstance(error.original_error, ValueError | GraphQLError) and error.path is None:
            # Variables that do not fit their declared types (graphql-core's coercion errors).
            code = ErrorCode.BAD_USER_INPUT.value
            formatted["message"] = f"{INVALID_VARIABLES_MESSAGE} ({error.message})"
        else:
            logger.error("Unexpected error in GraphQL execution", exc_info=error.original_error)
            formatted["message"] = INTERNAL_MESSAGE
            code = ErrorCode.INTERNAL_ERROR.value
    formatted["extensions"] = {**(formatted.get("extensions") or {}), "code": code}
    count_error(code)
    field = _variable_field(error)
    if field is not None:
        formatted["extensions"].setdefault("field", field)
    return formatted


# graphql-core names what it could not coerce only in its message: "Variable '$input' has invalid
# value at .slices[0].target: …". The field is given as the NUL guard gives it (schema/input_guards.py).
_VARIABLE_PATH = re.compile(r"Variable '\$(\w+)' has invalid value(?: at ((?:\.\w+|\[\d+\])+))?: ")


def _variable_field(error: GraphQLError) -> str | None:
    match = _VARIABLE_PATH.match(error.message) if error.path is None else None
    return None if match is None else f"variables.{match[1]}{match[2] or ''}"


def error_response(code: ErrorCode, message: str, status: int, **extensions) -> JsonResponse:
    """A refusal answered before GraphQL runs (CSRF, unreadable body, downloads), in its format."""
    count_error(code.value)
    return JsonResponse(
        {"data": None, "errors": [{"message": message, "extensions": {"code": code.value, **extensions}}]},
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )
