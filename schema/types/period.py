import datetime

import strawberry_django
from strawberry import relay

from models.periods import EvaluationPeriod
from schema.types.base import computed


@strawberry_django.type(EvaluationPeriod, name="EvaluationPeriod")
class EvaluationPeriodNode(relay.Node):
    id: relay.NodeID[int]
    title: str
    year: int
    start_date: datetime.date
    end_date: datetime.date
    provincial_proposal_cap: int
    proposals_open: bool = strawberry_django.field(
        description="Executive organizations (main leaders) may propose indicators; provincial leaders always may."
    )

    @strawberry_django.field(only=["status"])
    @computed
    def is_open(self) -> bool:
        return self.is_open

    # Reference data every signed-in person reads, and every path to it (root fields, node, nested
    # edges) has already required a signed-in viewer: no get_queryset, so the optimizer joins it
    # (select_related) into the query that reaches it instead of prefetching it in one more.
