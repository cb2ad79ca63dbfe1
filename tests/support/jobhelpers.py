"""Helpers for the job tests: job files written from keyword arguments."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TOKEN = "test-token-not-a-secret-shape"
CONVERSATION_ID = "c0ffee00-0000-4000-8000-000000000001"


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))  # a JSON string is a TOML basic string


def write_job(directory: Path, name: str = "job", **keys: Any) -> Path:
    path = directory / f"{name}.toml"
    path.write_text("".join(f"{k} = {toml_value(v)}\n" for k, v in keys.items()))
    return path
