import strawberry_django
from strawberry import relay

from models.geography import Province
from permissions import scope
from schema.types.base import scoped


@strawberry_django.type(Province, name="Province")
class ProvinceNode(relay.Node):
    id: relay.NodeID[int]
    code: str
    name: str

    get_queryset = scoped(scope.restrict_public)
