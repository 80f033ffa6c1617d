"""Excel imports as the API shows them: the job, its progress and its problems; the upload mutations."""

from __future__ import annotations

import datetime

import strawberry
import strawberry_django
from strawberry import relay
from strawberry.file_uploads import Upload

from models.imports import ImportJob, ImportKind, ImportStatus
from permissions import scope
from schema.errors import ErrorCode, UserError
from schema.types.base import computed, scoped
from schema.types.period import EvaluationPeriodNode
from schema.types.user import UserNode

ImportKindEnum = strawberry.enum(ImportKind, name="ImportKind")
ImportStatusEnum = strawberry.enum(
    ImportStatus,
    name="ImportStatus",
    description=(
        "QUEUED → CHECKING (every row) → WRITING (all rows, one transaction) → DONE; REFUSED: a row was bad, "
        "nothing written (see problems); FAILED: a fault of Mana's, nothing written."
    ),
)
_KNOWN_CODES = {code.value for code in ErrorCode}


@strawberry.type(description="One thing wrong with an imported file: where, and why (in Persian).")
class ImportProblem:
    row: int | None = strawberry.field(description="The sheet's row number (1: the headers); null for the whole file.")
    column: str | None = strawberry.field(description="The column's header as in the template; null for the whole row.")
    code: ErrorCode
    message: str


@strawberry_django.type(
    ImportJob,
    name="ImportJob",
    description=(
        "An Excel import (organizations or assignments) running in the background. Seen by the person who "
        "uploaded it and by the senior leader; followed live with the importProgress subscription."
    ),
)
class ImportJobNode(relay.Node):
    id: relay.NodeID[int]
    kind: ImportKindEnum
    status: ImportStatusEnum
    period: EvaluationPeriodNode | None = strawberry_django.field(description="The period (assignments only).")
    file_name: str
    rows_total: int = strawberry_django.field(description="Data rows in the file (0 until it was read).")
    rows_checked: int
    rows_written: int = strawberry_django.field(description="Rows written; all of them once DONE, none otherwise.")
    created_by: UserNode | None = strawberry_django.field(description="Who uploaded it.")
    created_at: datetime.datetime
    finished_at: datetime.datetime | None

    @strawberry_django.field(
        only=["problems"],
        description="Every bad row and cell of a REFUSED job (at most 1,000, then TOO_MANY_PROBLEMS), by row.",
    )
    @computed
    def problems(self) -> list[ImportProblem]:
        return [
            ImportProblem(
                row=item.get("row"),
                column=item.get("column"),
                code=ErrorCode(item["code"]) if item.get("code") in _KNOWN_CODES else ErrorCode.INVALID,
                message=item.get("message", ""),
            )
            for item in self.problems or []
        ]

    get_queryset = scoped(scope.restrict_import_jobs, ordering=("-created_at", "-id"))


@strawberry.input(description="An XLSX file of the assignments template for a period (GraphQL multipart upload).")
class ImportAssignmentsInput:
    period: strawberry.ID
    file: Upload


@strawberry.type
class ImportAssignmentsPayload:
    errors: list[UserError]
    job: ImportJobNode | None = None


@strawberry.input(description="An XLSX file of the organizations template (GraphQL multipart upload).")
class ImportOrganizationsInput:
    file: Upload


@strawberry.type
class ImportOrganizationsPayload:
    errors: list[UserError]
    job: ImportJobNode | None = None
