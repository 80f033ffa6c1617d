"""Schema-aware fuzzing through the real endpoint: whatever a client sends, the answer is never a
5xx and never INTERNAL_ERROR, and every error carries a code.

Documents come from the schema itself, for every query and every mutation:

* hypothesis-graphql's documents, values written inline as literals: valid ones (Mode.POSITIVE,
  one root field at a time and several together) and ones with one schema violation
  (Mode.NEGATIVE);
* each root field with its arguments passed as JSON variables, drawn from the argument's declared
  type, now and then of the wrong JSON kind (a list for an object, a number for a date, null for a
  required value);
* one-wrong-value requests, exhaustively: a request known to succeed for every root field with
  arguments (made on the test's data), with each of its values in turn — at any depth, given or
  left out — replaced by each value that broke or could break something. Random documents rarely
  get every other value right, and one wrong value deep in a good request is how crashes hide
  (this sweep finds NaN, Infinity, 1e400 and 30-digit slice targets and weights as INTERNAL_ERROR on
  the code before issue 7's decimal checks).

Their values mix what a real client sends (ids of real demo objects, dates in the period, small
versions) with what a careless or hostile one does (NUL characters, NaN, Infinity, 1e400, 30-digit
numbers, Persian digits, ids of other types, of nothing or past 64 bits, page cursors past any
list, garbage). They are POSTed as JSON by an anonymous client and by signed-in demo people. Each
example runs in a savepoint that is rolled back (the client's cookies are put back too), so every
example starts from the same data and session: a failure replays exactly.

Reproducible: examples are derandomized (the same on every run); a failing document, with its
variables and the answer, is in the assertion message (hypothesis shrinks it first). To search
wider locally: ``MANA_FUZZ_EXAMPLES=1000 MANA_FUZZ_SEED=7 pytest tests/test_fuzz.py`` (a seed
replaces derandomization; the same seed replays the same examples).
"""

from __future__ import annotations

import base64
import copy
import datetime
import json
import math
import os
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.utils import timezone
from graphql import (
    BooleanValueNode,
    FloatValueNode,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    IntValueNode,
    StringValueNode,
    get_named_type,
    is_leaf_type,
    is_required_argument,
    is_required_input_field,
)
from hypothesis import HealthCheck, given, note, seed, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, queries

from models import one_time_codes
from models.api_tokens import create_api_token
from models.credentials import OneTimeCode
from models.demo import DEMO_PASSWORD
from models.organization import Organization
from models.periods import EvaluationPeriod
from models.referrals import Referral
from models.requests import Proposal, RegistrationRequest
from models.users import RoleAssignment, User
from schema.ids import decode_global_id, encode_global_id
from schema.schema import schema
from schema.types.registry import NODE_TYPES
from tests.conftest import PASSED_CAPTCHA, GraphQLClient
from tests.test_workflow_evidence import PDF
from tests.workflow_helpers import (
    ALI,
    AMIR,
    FATEMEH,
    FINISH,
    REFER,
    SARA,
    SAVE,
    assignment_id,
    build_chain,
    mutate,
    period_id,
    province_id,
    upload,
    user_id,
)

pytestmark = pytest.mark.django_db

SCHEMA = schema._schema
EXAMPLES = int(os.environ.get("MANA_FUZZ_EXAMPLES", "20"))
SEED = os.environ.get("MANA_FUZZ_SEED")
# Enough of each type's real objects for ids to reach real rows.
REAL_IDS_PER_TYPE = 12
ONE_TIME_CODE = "246810"
PEOPLE = {
    "anonymous": None,
    "main-leader": ALI,
    "self-evaluator": FATEMEH,
    "assignee": AMIR,
    "two-roles": SARA,
    "senior-leader": "0010000011",
    "provincial-leader": "0010000054",
    "evaluator": "0010000062",
}


def _b64(raw: bytes | str) -> str:
    return base64.b64encode(raw.encode() if isinstance(raw, str) else raw).decode()


# Texts that broke or could break something: NUL (PostgreSQL cannot store it), Arabic ي/ك and
# Persian digits (folded by search), the demo's national codes and password, whitespace, SQL and
# LIKE metacharacters, invisible characters, a long text.
TEXTS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "علي كريمي",
    "۰۰۱۰۰۰۰۰۲۱",
    "0010000021",
    "0032054009",
    "mana-demo-1402",
    "%",
    "_",
    "'; --",
    "\\",
    "\u200c",
    "\ufeff",
    "x" * 5000,
]
# Page cursors (base64 of «arrayconnection:offset»): real offsets, and offsets no list has.
CURSORS = [_b64(f"arrayconnection:{n}") for n in ["0", "1", "5", "-1", str(2**31), str(2**63), "9" * 40, "x"]]
# Decimals and dates: valid ones, and ones that broke or could break something.
VALID_DECIMALS = ["30", "36.5", "0", "1500", "3000", "0.5", "1e2", "-1"]
DECIMALS = [
    *("-0", "NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf", "1e400", "1E-400", "1e18", "9" * 30),
    *("30.123456789", "0.00001", "۳۶٫۵", "٣٠", "1_000", "0x10", "", " ", "\x00", "1\x00", "--1", "1e", "."),
    *("99999999999999.9999", "100000000000000"),
]
VALID_DATES = ["1402/10/20", "1402/11/01", "1402/11/10", "1402/11/15", "۱۴۰۲/۱۱/۰۵"]
DATES = [
    *("1402/10/10", "1402/11/29", "1402-11-01", "1402/12/30", "1403/12/30", "1402/13/01", "1402/00/10"),
    *("0000/00/00", "9999/12/29", "99999999/1/1", "1402/11/10\x00", "", "2024-01-01", "1402/1/1/1"),
]


def garbage_ids() -> list[str]:
    """Ids that decode to nothing real: malformed, of unknown types, of impossible primary keys."""
    ids = ["", " ", "\x00", "not-an-id", "====", "🙂", "1", "-1", _b64(b"\xff\xfe:1"), _b64("Referral")]
    for type_name in [*NODE_TYPES, "Nope", "", "Referral\x00"]:
        for pk in ["0", "-1", "abc", "1.5", "1e3", "۱", " 1", "1\x00", "", str(2**63), "9" * 40]:
            ids.append(_b64(f"{type_name}:{pk}"))
    return ids


def real_ids() -> dict[str, list[str]]:
    """Global ids of real objects, by Node type."""
    ids = {}
    for type_name, node_type in NODE_TYPES.items():
        model = node_type.__strawberry_django_definition__.model
        pks = model.objects.order_by("pk").values_list("pk", flat=True)[:REAL_IDS_PER_TYPE]
        ids[type_name] = [encode_global_id(type_name, pk) for pk in pks]
    return ids


@dataclass(frozen=True)
class Scalars:
    """Python values for each scalar an input takes: ``clean`` only valid ones, ``dirty`` valid and
    invalid mixed. One invalid scalar refuses the whole document, so clean documents are the ones
    that reach the workflow; dirty ones try the scalars' and coercion's refusals."""

    clean: dict[str, st.SearchStrategy]
    dirty: dict[str, st.SearchStrategy]
    # Real ids by Node type, for the variables whose name says what they refer to.
    ids: dict[str, list[str]]

    def for_name(self, name: str, dirty: bool) -> st.SearchStrategy:
        """Values of an ID named ``name``: mostly real ids of the type it names (a `referral` is a
        Referral's id), so that the workflow runs on real objects; any ID otherwise."""
        types = ID_NAMES.get(name) or [t for t in self.ids if t.lower().endswith(name.lower())]
        named = [gid for t in types for gid in self.ids.get(t, ())]
        any_id = (self.dirty if dirty else self.clean)["ID"]
        return st.one_of(st.sampled_from(named), st.sampled_from(named), any_id) if named else any_id


# ID arguments and input fields whose name is not their type's.
ID_NAMES = {"source": ["Assignment", "Referral"], "assignee": ["User"], "parent": ["Organization"]}


def scalar_values(ids_by_type: dict[str, list[str]]) -> Scalars:
    ids = [gid for type_ids in ids_by_type.values() for gid in type_ids]
    text = st.text(st.characters(codec="utf-8", max_codepoint=0xFFFF, blacklist_categories=["Cs"]), max_size=30)
    big = st.integers(min_value=-(10**40), max_value=10**40)
    floats = st.floats(allow_nan=True, allow_infinity=True)
    valid = {
        "ID": st.sampled_from(ids),
        # Small numbers are the versions and page sizes that exist.
        "Int": st.one_of(st.integers(0, 5), st.integers(-(2**31), 2**31 - 1)),
        "Float": st.floats(allow_nan=False, allow_infinity=False),
        "Boolean": st.booleans(),
        "String": st.one_of(st.sampled_from(TEXTS + CURSORS), text),
        "Decimal": st.sampled_from(VALID_DECIMALS),
        "JalaliDate": st.sampled_from(VALID_DATES),
        "DateTime": st.just("2024-01-01T00:00:00+00:00"),
        # A JSON body cannot carry a file: whatever stands in its place is refused with a code.
        "Upload": st.one_of(text, st.sampled_from(ids)),
    }
    invalid = {
        "ID": st.one_of(st.sampled_from(garbage_ids()), text, big),
        "Int": st.one_of(big, floats),
        "Float": st.one_of(floats, big),
        "Boolean": st.one_of(st.integers(0, 1), text),
        "String": big,
        "Decimal": st.one_of(st.sampled_from(DECIMALS), text, big, floats),
        "JalaliDate": st.one_of(st.sampled_from(DATES), text, big),
        "DateTime": st.one_of(text, big),
        "Upload": big,
    }
    dirty = {name: st.one_of(valid[name], invalid[name]) for name in valid}
    return Scalars(clean=valid, dirty=dirty, ids=ids_by_type)


def _literal(value):
    if isinstance(value, bool):
        return BooleanValueNode(value=value)
    if isinstance(value, int):
        return IntValueNode(value=str(value))
    if isinstance(value, float):
        return FloatValueNode(value=repr(value))
    return StringValueNode(value=value)


def _literals(values: dict[str, st.SearchStrategy], dirty: bool) -> dict[str, st.SearchStrategy]:
    """Values as literals of the document (hypothesis-graphql's ``custom_scalars``). No float is NaN
    or infinite there; dirty ones write numbers no float holds instead (1e400)."""
    finite = lambda v: not (isinstance(v, float) and not math.isfinite(v))  # noqa: E731
    huge = st.sampled_from(["1e400", "-1e400", "1e-400", "1" + "0" * 400]).map(lambda v: FloatValueNode(value=v))
    return {
        name: st.one_of(strategy.filter(finite).map(_literal), huge) if dirty else strategy.map(_literal)
        for name, strategy in values.items()
    }


def literal_documents(operation: str, scalars: Scalars, mode: Mode = Mode.POSITIVE) -> st.SearchStrategy[str]:
    """hypothesis-graphql's documents, with clean or dirty values: one root field at a time (each
    as likely as another) and several together. A schema violation needs an argument to break:
    hypothesis-graphql picks the fields itself in Mode.NEGATIVE."""
    make, root = (queries, SCHEMA.query_type) if operation == "query" else (mutations, SCHEMA.mutation_type)
    strategies = []
    for values in (_literals(scalars.clean, dirty=False), _literals(scalars.dirty, dirty=True)):
        together = make(SCHEMA, custom_scalars=values, mode=mode)
        if mode == Mode.NEGATIVE:
            strategies.append(together)
            continue
        one_field = st.sampled_from(sorted(root.fields)).flatmap(
            lambda name, values=values: make(SCHEMA, fields=[name], custom_scalars=values)
        )
        strategies += [one_field, together]
    return st.one_of(strategies)


JUNK = st.one_of(
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def json_values(type_, scalars: Scalars, dirty: bool, name: str = "") -> st.SearchStrategy:
    """JSON values for a variable (or input field) ``name`` of ``type_``; dirty ones are now and then
    null where a value is required, or of another JSON kind altogether."""
    if isinstance(type_, GraphQLNonNull):
        shaped = _shaped(type_.of_type, scalars, dirty, name)
        return st.one_of(*[shaped] * 8, st.none(), JUNK) if dirty else shaped
    shaped = _shaped(type_, scalars, dirty, name)
    return st.one_of(*[shaped] * 8, st.none(), JUNK) if dirty else st.one_of(shaped, st.none())


def _shaped(type_, scalars: Scalars, dirty: bool, name: str) -> st.SearchStrategy:
    if isinstance(type_, GraphQLList):
        item = json_values(type_.of_type, scalars, dirty, name)
        return st.one_of(st.lists(item, max_size=3), item)  # a single value stands for a list of one
    if isinstance(type_, GraphQLInputObjectType):
        fields = type_.fields.items()
        required = {n: json_values(f.type, scalars, dirty, n) for n, f in fields if is_required_input_field(f)}
        optional = {n: json_values(f.type, scalars, dirty, n) for n, f in fields if not is_required_input_field(f)}
        return st.fixed_dictionaries(required, optional=optional)
    if isinstance(type_, GraphQLEnumType):
        names = st.sampled_from(sorted(type_.values))
        return st.one_of(names, st.text(max_size=10)) if dirty else names
    assert isinstance(type_, GraphQLScalarType)
    if type_.name == "ID":
        return scalars.for_name(name, dirty)
    return (scalars.dirty if dirty else scalars.clean)[type_.name]


def _selection(type_, depth: int = 2) -> str:
    """Every leaf of ``type_`` and of the objects under it, ``depth`` levels deep (first page only)."""
    parts = ["__typename"]
    for name, field in type_.fields.items():
        if any(is_required_argument(arg) for arg in field.args.values()):
            continue  # an argument of its own to fill: the literal documents reach those
        target = get_named_type(field.type)
        if is_leaf_type(target):
            parts.append(name)
        elif depth > 0:
            parts.append(f"{name} {{ {_selection(target, depth - 1)} }}")
    return " ".join(parts)


def variables_document(operation: str, name: str) -> str:
    """A root field with every argument a variable of its declared type, selecting its leaves."""
    field = (SCHEMA.query_type if operation == "query" else SCHEMA.mutation_type).fields[name]
    declared = ", ".join(f"${arg}: {spec.type}" for arg, spec in field.args.items())
    passed = ", ".join(f"{arg}: ${arg}" for arg in field.args)
    target = get_named_type(field.type)
    body = "" if is_leaf_type(target) else f" {{ {_selection(target)} }}"
    return f"{operation}({declared}) {{ {name}({passed}){body} }}"


def variables_documents(operation: str, scalars: Scalars) -> st.SearchStrategy[tuple[str, dict]]:
    """Each root field with arguments, every argument a variable of its declared type, with clean
    or dirty values."""
    root = SCHEMA.query_type if operation == "query" else SCHEMA.mutation_type
    cases = {}
    for name, field in root.fields.items():
        if not field.args:
            continue
        document = variables_document(operation, name)
        args = field.args.items()
        variables = [
            st.fixed_dictionaries(
                {arg: json_values(spec.type, scalars, dirty, arg) for arg, spec in args if is_required_argument(spec)},
                optional={
                    arg: json_values(spec.type, scalars, dirty, arg)
                    for arg, spec in args
                    if not is_required_argument(spec)
                },
            )
            for dirty in (False, True)
        ]
        cases[name] = st.one_of(variables).map(lambda values, document=document: (document, values))
    return st.sampled_from(sorted(cases)).flatmap(cases.__getitem__)


@pytest.fixture
def private_root(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    return settings.PRIVATE_MEDIA_ROOT


@dataclass(frozen=True)
class Good:
    """A request known to succeed on the world's data: who sends it, the root field, its variables."""

    who: str
    operation: str
    name: str
    variables: dict


@dataclass(frozen=True)
class World:
    ids: dict[str, list[str]]
    goods: list[Good]


@pytest.fixture
def world(demo, private_root) -> World:
    """Demo data with two referral chains (Ali → Fatemeh → Amir): MOE-02 open, with a saved
    performance (history) and evidence; MOE-04 submitted by Amir, waiting for Fatemeh. The ids of
    real objects of every type, and a request known to succeed for every root field with arguments."""
    chain = build_chain()
    child, amir, fatemeh = chain["child"]["id"], chain["amir"], chain["fatemeh"]
    assert mutate(amir, SAVE, {"referral": child, "version": 0, "value": "30"})["errors"] == []
    upload(amir, child, "report.pdf", PDF)
    top = mutate(
        chain["ali"], REFER, {"source": assignment_id("MOE-04"), "assignee": user_id(FATEMEH), "deadline": "1402/11/18"}
    )["referral"]
    submitted = mutate(fatemeh, REFER, {"source": top["id"], "assignee": user_id(AMIR), "deadline": "1402/11/10"})
    submitted = submitted["referral"]["id"]
    assert mutate(amir, SAVE, {"referral": submitted, "version": 0, "value": "12"})["errors"] == []
    assert mutate(amir, FINISH, {"referral": submitted, "version": 1})["errors"] == []

    def version(gid: str) -> int:
        return Referral.objects.get(pk=decode_global_id(gid)[1]).version

    villages = encode_global_id("Referral", Referral.objects.get(assignment__indicator__code="MOE-01").pk)
    role = RoleAssignment.objects.filter(user__national_code=FATEMEH).order_by("id").first()
    fatemeh_role = encode_global_id("RoleAssignment", role.pk)
    fatemeh_token = encode_global_id("ApiToken", create_api_token(role.user, role, "fuzz", None)[0].pk)
    tehran, isfahan = province_id("IR-23"), province_id("IR-10")
    text = "گزارش عملکرد"
    # A one-time code the test knows (the real one goes out by SMS).
    OneTimeCode.objects.create(
        national_code=ALI,
        user=User.objects.get(national_code=ALI),
        code_hash=one_time_codes._hash(ALI, ONE_TIME_CODE),
        expires_at=timezone.now() + datetime.timedelta(hours=1),
    )
    sara_tavanir = encode_global_id(
        "RoleAssignment", RoleAssignment.objects.get(user__national_code=SARA, organization__code="MOE-TAVANIR").pk
    )
    pending = encode_global_id("RegistrationRequest", RegistrationRequest.objects.get(status="PENDING").pk)
    # A pending indicator proposal for Tehran's electricity distribution company, to review.
    proposal = Proposal.objects.create(
        period=EvaluationPeriod.objects.get(),
        organization=Organization.objects.get(code="MOE-TAVANIR-THR"),
        proposer=User.objects.get(national_code="0010000054"),
        title="کاهش زمان قطعی برق",
        unit="دقیقه",
        nature="LOWER_IS_BETTER",
        target=120,
        score=40,
    )
    referrer_slices = [
        {"province": tehran, "target": "10", "weight": "1", "assignee": user_id(FATEMEH), "deadline": "1402/11/05"},
        {"province": isfahan, "target": "10", "weight": "1", "assignee": user_id(SARA)},
    ]
    goods = [
        Good(
            "anonymous",
            "mutation",
            "login",
            {"input": {"nationalCode": FATEMEH, "password": DEMO_PASSWORD, "captcha": PASSED_CAPTCHA}},
        ),
        Good("anonymous", "mutation", "requestOtp", {"input": {"nationalCode": ALI, "captcha": PASSED_CAPTCHA}}),
        Good("anonymous", "mutation", "loginWithOtp", {"input": {"nationalCode": ALI, "code": ONE_TIME_CODE}}),
        Good("anonymous", "mutation", "forgotPassword", {"input": {"nationalCode": ALI, "captcha": PASSED_CAPTCHA}}),
        Good(
            "self-evaluator",
            "mutation",
            "changePassword",
            {"input": {"currentPassword": DEMO_PASSWORD, "newPassword": "Fuzz-own-pass-1402"}},
        ),
        Good("two-roles", "mutation", "switchRole", {"input": {"roleAssignment": sara_tavanir}}),
        Good(
            "anonymous",
            "mutation",
            "submitRegistrationRequest",
            {
                "input": {
                    "nationalCode": "0091537525",
                    "mobile": "09121112233",
                    "birthDate": "1368/05/21",
                    "landline": "021-81234567",
                    "post": text,
                    "approverMobile": "09120000021",
                    "requestedRole": "SELF_EVALUATOR",
                    "organization": encode_global_id("Organization", Organization.objects.get(code="MOE-TAVANIR").pk),
                    "captcha": PASSED_CAPTCHA,
                }
            },
        ),
        Good("main-leader", "mutation", "approveRegistrationRequest", {"input": {"request": pending, "reason": text}}),
        Good("main-leader", "mutation", "rejectRegistrationRequest", {"input": {"request": pending, "reason": text}}),
        Good(
            "main-leader",
            "query",
            "registrationRequests",
            {"status": "PENDING", "search": "رستمی", "first": 2, "after": CURSORS[0]},
        ),
        Good(
            "anonymous",
            "query",
            "registrationOrganizations",
            {"parent": encode_global_id("Organization", Organization.objects.get(code="MOE").pk)},
        ),
        Good(
            "main-leader",
            "mutation",
            "refer",
            {
                "input": {
                    "source": assignment_id("MOE-03"),
                    "assignee": user_id(FATEMEH),
                    "deadline": "1402/11/10",
                    "hasProvincialBreakdown": True,
                    "breakdownBy": "REFERRER",
                    "slices": referrer_slices,
                }
            },
        ),
        Good(
            "self-evaluator",
            "mutation",
            "splitByProvince",
            {
                "input": {
                    "referral": villages,
                    "version": version(villages),
                    "slices": [{"province": tehran, "target": "1500"}, {"province": isfahan, "target": "1500"}],
                }
            },
        ),
        Good(
            "assignee",
            "mutation",
            "savePerformance",
            {
                "input": {
                    "referral": child,
                    "version": 1,
                    "value": "31",
                    **dict.fromkeys(("hasStrategicPlan", "hasInformationSystem", "isRegistryBased"), True),
                    **dict.fromkeys(("comments", "obstacles", "improvementSolutions", "partnerPerformance"), text),
                    "registryComments": text,
                }
            },
        ),
        Good("assignee", "mutation", "finishReferral", {"input": {"referral": child, "version": version(child)}}),
        Good(
            "self-evaluator",
            "mutation",
            "returnReferral",
            {"input": {"referral": submitted, "version": version(submitted), "reason": text}},
        ),
        Good("main-leader", "mutation", "sendForEvaluation", {"input": {"period": period_id()}}),
        Good(
            "self-evaluator",
            "query",
            "inbox",
            {"period": period_id(), "status": "IN_PROGRESS", "first": 2, "after": CURSORS[0]},
        ),
        Good(
            "main-leader",
            "query",
            "organizations",
            {
                "search": "نيرو",
                "kind": "PROVINCIAL",
                "parent": encode_global_id("Organization", Organization.objects.get(code="MOE").pk),
                "province": tehran,
                "first": 2,
                "after": CURSORS[0],
            },
        ),
        Good("self-evaluator", "query", "periods", {"on": "1402/11/01"}),
        Good("assignee", "query", "node", {"id": child}),
        Good(
            "self-evaluator",
            "mutation",
            "createApiToken",
            {"input": {"name": text, "role": fatemeh_role, "expiresAt": "2099-01-01T00:00:00+03:30"}},
        ),
        Good("self-evaluator", "mutation", "revokeApiToken", {"input": {"token": fatemeh_token}}),
        Good("self-evaluator", "query", "apiTokens", {"first": 2, "after": CURSORS[0]}),
        Good("main-leader", "query", "importJobs", {"kind": "ASSIGNMENTS", "status": "DONE", "first": 2}),
        Good(
            "provincial-leader",
            "mutation",
            "proposeIndicator",
            {
                "input": {
                    "period": period_id(),
                    "organization": encode_global_id("Organization", Organization.objects.get(code="MOE-WRM-THR").pk),
                    "title": text,
                    "unit": "درصد",
                    "nature": "HIGHER_IS_BETTER",
                    "calculationMethod": text,
                    "target": "90",
                    "lowerBound": "80",
                    "upperBound": "100",
                    "score": "40",
                }
            },
        ),
        Good(
            "senior-leader",
            "mutation",
            "reviewProposal",
            {"input": {"proposal": encode_global_id("Proposal", proposal.pk), "decision": "REJECT", "reason": text}},
        ),
        Good(
            "main-leader",
            "query",
            "proposals",
            {
                "period": period_id(),
                "status": "PENDING",
                "organization": encode_global_id("Organization", proposal.organization_id),
                "kind": "PROVINCIAL",
                "search": "برق",
                "first": 2,
                "after": CURSORS[0],
            },
        ),
        Good("assignee", "query", "nodes", {"ids": [child, encode_global_id("Performance", 1), villages]}),
        *evaluation_goods(text),
    ]
    return World(ids=real_ids(), goods=goods)


def evaluation_goods(text: str) -> list[Good]:
    """Evaluation and non-applicability: MOE-05 sent and given to رضا (to score), MOE-06 sent with
    his recorded evaluation (to publish), MOE-07 sent (to give), a pending request on MOE-03."""
    from models.evaluations import Evaluation, EvaluatorAssignment
    from models.indicators import Assignment
    from models.requests import NonApplicabilityRequest

    reza, senior = (User.objects.get(national_code=code) for code in ("0010000062", "0010000011"))
    sent = {code: Assignment.objects.get(indicator__code=code) for code in ("MOE-05", "MOE-06", "MOE-07")}
    Assignment.objects.filter(pk__in=[a.pk for a in sent.values()]).update(status="SENT_FOR_EVALUATION")
    for code in ("MOE-05", "MOE-06"):
        EvaluatorAssignment.objects.create(assignment=sent[code], evaluator=reza, assigned_by=senior)
    Evaluation.objects.create(assignment=sent["MOE-06"], evaluator=reza, score=10, feedback="بازخورد")
    request = NonApplicabilityRequest.objects.create(
        assignment=Assignment.objects.get(indicator__code="MOE-03"),
        requester=User.objects.get(national_code=ALI),
        reason="خارج از مأموریت",
        evidence_file_name="نامه.pdf",
        evidence_content_type="application/pdf",
        evidence_size=10,
    )
    return [
        Good(
            "senior-leader",
            "mutation",
            "assignEvaluators",
            {"input": {"assignments": [assignment_id("MOE-07")], "evaluator": user_id("0010000062")}},
        ),
        Good(
            "evaluator",
            "mutation",
            "evaluateAssignment",
            {"input": {"assignment": assignment_id("MOE-05"), "score": "42.5", "feedback": text}},
        ),
        Good("senior-leader", "mutation", "publishEvaluations", {"input": {"assignments": [assignment_id("MOE-06")]}}),
        Good(
            "senior-leader",
            "mutation",
            "reviewNonApplicability",
            {
                "input": {
                    "request": encode_global_id("NonApplicabilityRequest", request.pk),
                    "decision": "REJECT",
                    "reason": text,
                }
            },
        ),
        Good(
            "senior-leader",
            "query",
            "sentForEvaluation",
            {"period": period_id(), "status": "SENT_FOR_EVALUATION", "first": 2, "after": CURSORS[0]},
        ),
        Good(
            "senior-leader",
            "query",
            "nonApplicabilityRequests",
            {"status": "PENDING", "assignment": assignment_id("MOE-03"), "first": 2, "after": CURSORS[0]},
        ),
        Good(
            "main-leader",
            "query",
            "dashboard",
            {
                "period": period_id(),
                "organization": encode_global_id("Organization", Organization.objects.get(code="MOE-TAVANIR").pk),
            },
        ),
    ]


def client_for(national_code: str | None) -> GraphQLClient:
    client = GraphQLClient()
    if national_code is not None:
        client.login(national_code)
    return client


def answer_of(client: GraphQLClient, document: str, variables: dict | None = None):
    """POST one document in a savepoint rolled back afterwards, the client's cookies put back:
    every example starts from the same data and the same session, whatever the one before did."""
    cookies = copy.deepcopy(client.http.cookies)
    try:
        with transaction.atomic():
            response = client.post(document, variables)
            transaction.set_rollback(True)
    finally:
        client.http.cookies = cookies
    return response


def check(document: str, variables: dict | None, response) -> bool:
    """The answer is JSON, not a 5xx, every error has a code and none is INTERNAL_ERROR. Returns
    whether a root field answered something (the document got past the checks into a resolver)."""
    shown = (
        f"document:\n{document}\nvariables: {variables!r}\n"
        f"answer: HTTP {response.status_code} {response.content[:3000]!r}"
    )
    assert response.status_code < 500, shown
    assert response["Content-Type"].startswith("application/json"), shown
    body = json.loads(response.content)
    codes = [(error.get("extensions") or {}).get("code") for error in body.get("errors") or []]
    assert None not in codes, f"an error without a code\n{shown}"
    assert "INTERNAL_ERROR" not in codes, shown
    return any(value is not None for value in (body.get("data") or {}).values())


def fuzz(client: GraphQLClient, cases: st.SearchStrategy, examples: int = EXAMPLES) -> int:
    """Send ``examples`` generated documents (or (document, variables) pairs); returns how many
    reached a resolver."""
    answered = 0

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=SEED is None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
    @given(case=cases)
    def example(case) -> None:
        nonlocal answered
        document, variables = case if isinstance(case, tuple) else (case, None)
        note(f"document:\n{document}\nvariables: {variables!r}")
        answered += check(document, variables, answer_of(client, document, variables))

    if SEED is not None:
        example = seed(int(SEED))(example)
    example()
    return answered


@pytest.mark.parametrize("who", list(PEOPLE))
def test_fuzzed_documents_never_crash(world, who):
    """Every query and mutation, with literal and with variable arguments, and documents with one
    schema violation, sent by this person."""
    client, scalars = client_for(PEOPLE[who]), scalar_values(world.ids)
    answered = [
        fuzz(client, literal_documents("query", scalars)),
        fuzz(client, literal_documents("mutation", scalars)),
        fuzz(client, variables_documents("query", scalars)),
        fuzz(client, variables_documents("mutation", scalars)),
    ]
    negative = st.one_of(
        literal_documents("query", scalars, Mode.NEGATIVE), literal_documents("mutation", scalars, Mode.NEGATIVE)
    )
    fuzz(client, negative)
    # Not only refusals at the door: documents of each kind got into the resolvers.
    if PEOPLE[who] is not None:
        assert all(answered), answered


# Values to put, one at a time, in place of each value of a good request, by the type of the place.
WRONG = {
    "Decimal": ["NaN", "Infinity", "-Infinity", "1e400", "9" * 30, "30.123456789", "-1", 1e308],
    "String": ["\x00", "x" * 10_000],
    "ID": ["not-an-id", _b64(f"Referral:{2**63}"), 1],
    "Int": [-1, 2**31 - 1],
    "JalaliDate": ["1402/13/01", "99999999/01/01", 14021110],
    "Boolean": ["true"],
}
ABSENT = object()
# Root fields with arguments that no JSON request can carry right: a file travels only in a
# multipart request (tests/test_workflow_evidence.py).
NO_GOOD_REQUEST = {"uploadEvidence", "requestNonApplicability", "importAssignments", "importOrganizations"}


def places(type_, value, path: tuple = ()):
    """(path, type) of every place of a variable's value a wrong value can go: the value itself, each
    field of an input object (given or not), the first item of a list."""
    yield path, type_
    named = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(named, GraphQLInputObjectType):
        given_ = value if isinstance(value, dict) else {}
        for name, field in named.fields.items():
            yield from places(field.type, given_.get(name, ABSENT), (*path, name))
    elif isinstance(named, GraphQLList) and isinstance(value, list) and value:
        yield from places(named.of_type, value[0], (*path, 0))


def wrong_values(type_, ids: dict[str, list[str]], path: tuple) -> list:
    """What to put at a place of ``type_``: null, and values of the wrong kind or edge values."""
    named = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(named, GraphQLList | GraphQLInputObjectType):
        return [None, [], {}, "x"]
    if isinstance(named, GraphQLEnumType):
        return [None, "NOPE", 1]
    if named.name == "ID":
        # A real id of another type than the one the place names, then ids of nothing.
        place = str(path[-1]).lower()
        other = next(t for t, type_ids in ids.items() if type_ids and not t.lower().endswith(place))
        return [None, ids[other][0], *WRONG["ID"]]
    return [None, *WRONG.get(named.name, [])]


def replaced(value, path: tuple, new):
    """``value`` with ``new`` at ``path`` (created where the path passes through nothing)."""
    if not path:
        return new
    head, *rest = path
    container = list(value) if isinstance(value, list) else dict(value or {})
    inner = container[head] if isinstance(container, list) else container.get(head)
    container[head] = replaced(inner, tuple(rest), new)
    return container


def test_every_good_request_with_one_wrong_value_never_crashes(world):
    """Each request known to succeed, with one of its values — any, at any depth, given or not —
    replaced by one that broke or could break something (NaN, 1e400, NUL, an id of another type or
    past 64 bits, a date that does not exist, null, a list for an object…): a coded answer every time."""
    roots = {
        (op, name)
        for op, root in (("query", SCHEMA.query_type), ("mutation", SCHEMA.mutation_type))
        for name, field in root.fields.items()
        if field.args and name not in NO_GOOD_REQUEST
    }
    assert {(g.operation, g.name) for g in world.goods} == roots, "give every root field with arguments a good request"
    clients = {who: client_for(national_code) for who, national_code in PEOPLE.items()}
    failures, sent = [], 0
    for good in world.goods:
        document = variables_document(good.operation, good.name)
        client = clients[good.who]
        # The good request itself succeeds, or the values below only try the refusals.
        body = json.loads(answer_of(client, document, good.variables).content)
        payload = (body.get("data") or {}).get(good.name)
        assert "errors" not in body and payload is not None, (good, body)
        if isinstance(payload, dict) and "errors" in payload and good.name != "sendForEvaluation":
            assert payload["errors"] == [], (good, payload)
        root = SCHEMA.query_type if good.operation == "query" else SCHEMA.mutation_type
        for arg, spec in root.fields[good.name].args.items():
            for path, type_ in places(spec.type, good.variables.get(arg, ABSENT)):
                for wrong in wrong_values(type_, world.ids, (arg, *path)):
                    variables = {**good.variables, arg: replaced(good.variables.get(arg), path, wrong)}
                    sent += 1
                    try:
                        check(document, variables, answer_of(client, document, variables))
                    except AssertionError as failure:
                        failures.append(f"as {good.who}: {failure}")
    assert not failures, f"{len(failures)} of {sent} answers crashed:\n\n" + "\n\n".join(failures[:20])


# Documents that once answered INTERNAL_ERROR, replayed as they were found.
ONCE_CRASHED = [
    # A global id whose primary key is past what a column holds (OverflowError on SQLite).
    f'{{ node(id: "{_b64("Province:9223372036854775808")}") {{ id }} }}',
    f'{{ nodes(ids: ["{_b64("Referral:" + "9" * 40)}"]) {{ id }} }}',
    f'mutation {{ finishReferral(input: {{referral: "{_b64("Referral:9223372036854775808")}", version: 1}}) '
    "{ errors { field code message } } }",
    # A page cursor whose offset is past 64 bits (SQLite: «datatype mismatch»).
    f'{{ organizations(first: 2, after: "{_b64("arrayconnection:" + "9" * 40)}") {{ totalCount }} }}',
]


@pytest.mark.parametrize("document", ONCE_CRASHED)
def test_documents_that_once_crashed_are_answered_with_a_code(demo, document):
    check(document, None, answer_of(client_for(FATEMEH), document))
