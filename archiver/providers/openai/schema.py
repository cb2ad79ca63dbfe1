"""Checking an answer against ``--json-schema``. Pure.

The part of JSON Schema that structured outputs use (OpenAI's "supported schemas"): ``type``
(one or several), ``enum``, ``const``, ``properties``, ``required``, ``additionalProperties``,
``items``, ``anyOf``/``oneOf``/``allOf``, local ``$ref`` (``#/$defs/...``, ``#/definitions/...``,
``#``), and the string, number and array bounds. Other keywords (``format``, ``description``)
say nothing about validity here and are ignored. Problems name the JSON path that broke."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

TYPES = ("object", "array", "string", "number", "integer", "boolean", "null")
MAX_PROBLEMS = 10


def check_schema(schema: Any) -> str | None:
    """Why ``schema`` cannot be used (None when it can)."""
    if not isinstance(schema, dict):
        return "a schema is a JSON object"
    bad = sorted(
        {kind for node in _nodes(schema) for kind in _types(node.get("type")) if kind not in TYPES}
    )
    if bad:
        return f"unknown type(s) {', '.join(bad)}"
    return None


def _nodes(schema: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found.append(node)
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _types(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def validate(value: Any, schema: Mapping[str, Any]) -> list[str]:
    """Every way ``value`` breaks ``schema`` (up to MAX_PROBLEMS), as ``$.path: reason``."""
    problems: list[str] = []
    _check(value, schema, schema, "$", problems)
    return problems[:MAX_PROBLEMS]


def _is_type(value: Any, kind: str) -> bool:
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "array":
        return isinstance(value, list)
    return isinstance(value, dict)


def _resolve(ref: str, root: Mapping[str, Any]) -> Mapping[str, Any] | None:
    if ref == "#":
        return root
    if not ref.startswith("#/"):
        return None
    node: Any = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node if isinstance(node, dict) else None


def _check(
    value: Any, schema: Mapping[str, Any], root: Mapping[str, Any], path: str, out: list[str]
) -> None:
    if len(out) >= MAX_PROBLEMS:
        return
    ref = schema.get("$ref")
    if isinstance(ref, str):
        target = _resolve(ref, root)
        if target is None:
            out.append(f"{path}: the schema's $ref {ref} names nothing")
            return
        _check(value, target, root, path, out)
    kinds = _types(schema.get("type"))
    if kinds and not any(_is_type(value, kind) for kind in kinds):
        out.append(f"{path}: expected {' or '.join(kinds)}, got {_name(value)}")
        return
    if "enum" in schema and isinstance(schema["enum"], list) and value not in schema["enum"]:
        out.append(f"{path}: not one of the allowed values")
    if "const" in schema and value != schema["const"]:
        out.append(f"{path}: not the required value")
    _combinations(value, schema, root, path, out)
    if isinstance(value, dict):
        _object(value, schema, root, path, out)
    elif isinstance(value, list):
        _array(value, schema, root, path, out)
    elif isinstance(value, str):
        _string(value, schema, path, out)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        _number(value, schema, path, out)


def _combinations(
    value: Any, schema: Mapping[str, Any], root: Mapping[str, Any], path: str, out: list[str]
) -> None:
    for keyword in ("anyOf", "oneOf"):
        options = schema.get(keyword)
        if isinstance(options, list) and options:
            matching = sum(1 for o in options if isinstance(o, dict) and not _fails(value, o, root))
            if matching == 0 or (keyword == "oneOf" and matching > 1):
                out.append(f"{path}: matches {matching} of the {keyword} choices")
    for option in schema.get("allOf") or []:
        if isinstance(option, dict):
            _check(value, option, root, path, out)


def _fails(value: Any, schema: Mapping[str, Any], root: Mapping[str, Any]) -> bool:
    found: list[str] = []
    _check(value, schema, root, "$", found)
    return bool(found)


def _object(
    value: dict[str, Any],
    schema: Mapping[str, Any],
    root: Mapping[str, Any],
    path: str,
    out: list[str],
) -> None:
    found = schema.get("properties")
    properties: Mapping[str, Any] = found if isinstance(found, dict) else {}
    for name in schema.get("required") or []:
        if isinstance(name, str) and name not in value:
            out.append(f"{path}: {name!r} is missing")
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        if name in properties and isinstance(properties[name], dict):
            _check(item, properties[name], root, f"{path}.{name}", out)
        elif extra is False:
            out.append(f"{path}: {name!r} is not allowed")
        elif isinstance(extra, dict):
            _check(item, extra, root, f"{path}.{name}", out)


def _array(
    value: list[Any], schema: Mapping[str, Any], root: Mapping[str, Any], path: str, out: list[str]
) -> None:
    items = schema.get("items")
    if isinstance(items, dict):
        for index, item in enumerate(value):
            _check(item, items, root, f"{path}[{index}]", out)
    low, high = schema.get("minItems"), schema.get("maxItems")
    if isinstance(low, int) and len(value) < low:
        out.append(f"{path}: fewer than {low} items")
    if isinstance(high, int) and len(value) > high:
        out.append(f"{path}: more than {high} items")


def _string(value: str, schema: Mapping[str, Any], path: str, out: list[str]) -> None:
    low, high = schema.get("minLength"), schema.get("maxLength")
    if isinstance(low, int) and len(value) < low:
        out.append(f"{path}: shorter than {low} characters")
    if isinstance(high, int) and len(value) > high:
        out.append(f"{path}: longer than {high} characters")
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        try:
            if re.search(pattern, value) is None:
                out.append(f"{path}: does not match the pattern")
        except re.error:
            pass  # a pattern Python cannot read says nothing about the answer


def _number(value: float, schema: Mapping[str, Any], path: str, out: list[str]) -> None:
    bounds = (
        ("minimum", lambda v, b: v < b, "below"),
        ("maximum", lambda v, b: v > b, "above"),
        ("exclusiveMinimum", lambda v, b: v <= b, "not above"),
        ("exclusiveMaximum", lambda v, b: v >= b, "not below"),
    )
    for keyword, breaks, word in bounds:
        bound = schema.get(keyword)
        if isinstance(bound, int | float) and not isinstance(bound, bool) and breaks(value, bound):
            out.append(f"{path}: {word} {bound}")


def _name(value: Any) -> str:
    for kind in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _is_type(value, kind):
            return kind
    return type(value).__name__
