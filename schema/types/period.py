import datetime

import strawberry_django
from strawberry import relay

from models.periods import EvaluationPeriod
from permissions import scope
from schema.types.base import computed, scoped


@strawberry_django.type(EvaluationPeriod, name="EvaluationPeriod")
class EvaluationPeriodNode(relay.Node):
    id: relay.NodeID[int]
    title: str
    year: int
    start_date: datetime.date
    end_date: datetime.date
    provincial_proposal_cap: int

    @strawberry_django.field(only=["status"])
    @computed
    def is_open(self) -> bool:
        return self.is_open

    get_queryset = scoped(scope.restrict_public)
