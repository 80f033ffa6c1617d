import json
import pytest
pytestmark = pytest.mark.django_db

def test_probe(gql, demo, count_queries):
    gql.login("0010000062")
    r = gql.execute('{ organizations { edges { node { code children { code } } } } me { user { organization { code children { code } } } roles { organization { children { code } } } } }')
    print(json.dumps(r, ensure_ascii=False)[:3000])
    gql.login("0010000021")
    r = gql.execute('{ organizations(search: "MOE-TAVANIR-THR") { edges { node { code ancestors { code children { code } } descendants { edges { node { code parent { code } children { code } } } } } } } }')
    print(json.dumps(r, ensure_ascii=False)[:3000])
