"""GraphQL responses as readable, compact UTF-8 JSON.

json.dumps escapes every non-ASCII character by default: a Persian letter (two bytes in UTF-8)
left as «\\u0645», six. Unescaped, an organization list is about half the size and `curl` shows
Persian as Persian. The one string UTF-8 cannot carry is a lone surrogate (JSON's «\\ud800» sent
in a variable and echoed in an error message): such a response falls back to escaped ASCII, which
is still valid JSON, rather than failing to encode.
"""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder

CHARSET = "utf-8"


def encode_json(data: object) -> bytes:
    """Compact JSON (no spaces after separators), non-ASCII characters as themselves, in UTF-8."""
    text = json.dumps(data, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode(CHARSET)
    except UnicodeEncodeError:
        return json.dumps(data, cls=DjangoJSONEncoder, separators=(",", ":")).encode("ascii")


def encode_json_text(data: object) -> str:
    """The same JSON as text, for a WebSocket text frame (which the server sends as UTF-8)."""
    return encode_json(data).decode(CHARSET)
