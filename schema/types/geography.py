import strawberry_django
from strawberry import relay

from models.geography import Province


@strawberry_django.type(Province, name="Province")
class ProvinceNode(relay.Node):
    id: relay.NodeID[int]
    code: str
    name: str

    # Reference data every signed-in person reads, and every path to it (root fields, node, nested
    # edges) has already required a signed-in viewer: no get_queryset, so the optimizer joins it
    # (select_related) into the query that reaches it instead of prefetching it in one more.
