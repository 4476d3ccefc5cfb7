"""The protobuf form of `/openapi/v2`: gnostic's `openapi.v2.Document`, which client-go's
`OpenAPISchema()` asks for (`kubectl explain --output=plaintext-openapiv2`, kubectl's v2 fallbacks).

Field numbers are those of gnostic `openapiv2/OpenAPIv2.proto`. kube-apiserver makes this form by
parsing its JSON document with gnostic, so values gnostic keeps as `Any` (vendor extensions,
`enum`, `default`, `example`) carry their YAML text, which is what kube-openapi's
`pkg/util/proto` reads back. Only what `openapi_v2.document()` produces is encoded; any other
Swagger keyword is refused loudly, never dropped.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Any

import yaml

Obj = dict[str, Any]

_SCHEMA_STRINGS = {"$ref": 1, "format": 2, "title": 3, "description": 4, "pattern": 13}
_SCHEMA_DOUBLES = {"multipleOf": 6, "maximum": 7, "minimum": 9}
_SCHEMA_BOOLS = {"exclusiveMaximum": 8, "exclusiveMinimum": 10, "uniqueItems": 16, "readOnly": 27}
_SCHEMA_INTS = {
    "maxLength": 11,
    "minLength": 12,
    "maxItems": 14,
    "minItems": 15,
    "maxProperties": 17,
    "minProperties": 18,
}
_SCHEMA_OTHER = {
    "default",
    "required",
    "enum",
    "additionalProperties",
    "type",
    "items",
    "allOf",
    "properties",
    "example",
}
_OPERATIONS = {"get": 2, "put": 3, "post": 4, "delete": 5, "options": 6, "head": 7, "patch": 8}


class EncodeError(ValueError):
    """A part of the document this encoder does not know how to write."""


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64 values are ten-byte two's complement varints
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _message(field: int, body: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(body)) + body


def _string(field: int, value: Any) -> bytes:
    return _message(field, str(value).encode()) if value not in ("", None) else b""


def _strings(field: int, values: Iterable[Any]) -> bytes:
    return b"".join(_message(field, str(v).encode()) for v in values)


def _bool(field: int, value: Any) -> bytes:
    return _varint(field << 3) + b"\x01" if value else b""


def _int(field: int, value: Any) -> bytes:
    return _varint(field << 3) + _varint(int(value)) if value else b""


def _double(field: int, value: Any) -> bytes:
    return _varint(field << 3 | 1) + struct.pack("<d", float(value)) if value else b""


def _any(field: int, value: Any) -> bytes:
    """gnostic `Any`: the value as YAML text (field 2)."""
    return _message(field, _string(2, yaml.safe_dump(value, default_flow_style=False, sort_keys=False)))


def _extensions(field: int, obj: Obj) -> bytes:
    """Vendor extensions (`x-...`) as repeated `NamedAny`."""
    return b"".join(_message(field, _string(1, k) + _any(2, v)) for k, v in obj.items() if k.startswith("x-"))


def schema(obj: Obj) -> bytes:
    known = {*_SCHEMA_STRINGS, *_SCHEMA_DOUBLES, *_SCHEMA_BOOLS, *_SCHEMA_INTS, *_SCHEMA_OTHER}
    unknown = [k for k in obj if not k.startswith("x-") and k not in known]
    if unknown:
        raise EncodeError(f"OpenAPI v2 schema keywords {sorted(unknown)} are not encoded as protobuf by the emulator")
    out = bytearray()
    for key, number in _SCHEMA_STRINGS.items():
        out += _string(number, obj.get(key))
    for key, number in _SCHEMA_DOUBLES.items():
        out += _double(number, obj.get(key))
    for key, number in _SCHEMA_BOOLS.items():
        out += _bool(number, obj.get(key))
    for key, number in _SCHEMA_INTS.items():
        out += _int(number, obj.get(key))
    if "default" in obj:
        out += _any(5, obj["default"])
    out += _strings(19, obj.get("required") or [])
    out += b"".join(_any(20, value) for value in obj.get("enum") or [])
    additional = obj.get("additionalProperties")
    if isinstance(additional, dict):
        out += _message(21, _message(1, schema(additional)))
    elif additional is not None:
        out += _message(21, _varint(2 << 3) + (b"\x01" if additional else b"\x00"))
    if "type" in obj:
        types = obj["type"] if isinstance(obj["type"], list) else [obj["type"]]
        out += _message(22, _strings(1, types))
    if "items" in obj:
        items = obj["items"] if isinstance(obj["items"], list) else [obj["items"]]
        out += _message(23, b"".join(_message(1, schema(item)) for item in items))
    out += b"".join(_message(24, schema(part)) for part in obj.get("allOf") or [])
    if "properties" in obj:
        named = b"".join(_message(1, _string(1, k) + _message(2, schema(v))) for k, v in obj["properties"].items())
        out += _message(25, named)
    if "example" in obj:
        out += _any(30, obj["example"])
    out += _extensions(31, obj)
    return bytes(out)


def _parameter(param: Obj) -> bytes:
    """A `ParametersItem` holding a body, query or path parameter."""
    where = param.get("in")
    if where == "body":
        body = _string(1, param.get("description")) + _string(2, param.get("name")) + _string(3, where)
        body += _bool(4, param.get("required")) + _message(5, schema(param.get("schema") or {}))
        return _message(1, _message(1, body))
    if where not in ("query", "path"):
        raise EncodeError(f"OpenAPI v2 parameters in {where!r} are not encoded as protobuf by the emulator")
    sub = _bool(1, param.get("required")) + _string(2, where) + _string(3, param.get("description"))
    sub += _string(4, param.get("name"))
    if where == "query":  # QueryParameterSubSchema: type 6, uniqueItems 20
        sub += _string(6, param.get("type")) + _bool(20, param.get("uniqueItems"))
    else:  # PathParameterSubSchema: type 5, uniqueItems 19
        sub += _string(5, param.get("type")) + _bool(19, param.get("uniqueItems"))
    return _message(1, _message(2, _message(3 if where == "query" else 4, sub)))


def _operation(op: Obj) -> bytes:
    out = _strings(1, op.get("tags") or []) + _string(2, op.get("summary")) + _string(3, op.get("description"))
    out += _string(5, op.get("operationId")) + _strings(6, op.get("produces") or [])
    out += _strings(7, op.get("consumes") or [])
    out += b"".join(_message(8, _parameter(p)) for p in op.get("parameters") or [])
    codes = b""
    for code, response in (op.get("responses") or {}).items():
        item = _string(1, response.get("description"))
        if "schema" in response:
            item += _message(2, _message(1, schema(response["schema"])))
        codes += _message(1, _string(1, code) + _message(2, _message(1, item)))
    out += _message(9, codes) + _strings(10, op.get("schemes") or [])
    return out + _extensions(13, op)


def _path_item(item: Obj) -> bytes:
    out = b"".join(_message(number, _operation(item[verb])) for verb, number in _OPERATIONS.items() if verb in item)
    out += b"".join(_message(9, _parameter(p)) for p in item.get("parameters") or [])
    return out + _extensions(10, item)


def document(doc: Obj) -> bytes:
    """The protobuf encoding of the Swagger 2.0 document `openapi_v2.document()` returns."""
    info = doc.get("info") or {}
    out = _string(1, doc.get("swagger")) + _message(2, _string(1, info.get("title")) + _string(2, info.get("version")))
    paths = b"".join(_message(2, _string(1, p) + _message(2, _path_item(i))) for p, i in doc.get("paths", {}).items())
    out += _message(8, paths)
    named = b"".join(_message(1, _string(1, k) + _message(2, schema(v))) for k, v in doc.get("definitions", {}).items())
    return out + _message(9, named)
