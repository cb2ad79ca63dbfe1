"""``archiver providers``: every registered provider and what it can do."""

from __future__ import annotations

import json

import click

from archiver.providers import registry


def provider_table() -> list[dict[str, object]]:
    """One row per provider: its name, title, summary and capabilities (registry order)."""
    return [
        {
            "name": p.name,
            "title": p.title,
            "summary": p.summary,
            "capabilities": [cap for cap, able in p.capabilities().items() if able],
        }
        for p in registry.all_providers()
    ]


@click.command("providers")
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
def providers_command(as_json: bool) -> None:
    """List the providers archiver knows and what each can do: backup (a live account),
    import (its data export), send (batch prompts), gateway (archiver serve), doctor,
    emulator (a fake upstream for demos and tests) and reflatten."""
    rows = provider_table()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    width = max(len("provider"), *(len(str(row["name"])) for row in rows))
    header = "".join(f"{cap:<10}" for cap in registry.CAPABILITIES)
    click.echo(f"{'provider':<{width}}  {header}".rstrip())
    for row in rows:
        able = set(row["capabilities"])  # type: ignore[call-overload]
        marks = "".join(f"{'yes' if cap in able else '-':<10}" for cap in registry.CAPABILITIES)
        click.echo(f"{row['name']:<{width}}  {marks}".rstrip())
