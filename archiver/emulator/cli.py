"""``archiver emulator``: run the emulator in the foreground (demos, benchmarks, manual tests)."""

from __future__ import annotations

import asyncio
import signal

import click

from archiver.emulator.config import EmulatorConfig
from archiver.emulator.server import start_site
from archiver.emulator.state import EmulatorState


@click.command("emulator")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=0, show_default=True, help="0 picks a free port.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--conversations", type=int, default=200, show_default=True)
@click.option("--mean-nodes", type=int, default=12, show_default=True)
@click.option("--bing-chats", type=int, default=20, show_default=True)
@click.option("--token", default="emulator-token", show_default=True, help="Accepted bearer token.")
@click.option("--account-id", default=None, help="Require this Chatgpt-Account-Id.")
@click.option(
    "--bing-cookie", default="emulator-cookie", show_default=True, help="Accepted _U cookie."
)
@click.option(
    "--bing-signature-style",
    type=click.Choice(["body", "header"]),
    default="header",
    show_default=True,
)
@click.option("--bing-times-in-seconds", is_flag=True, help="Some chats list epoch seconds.")
@click.option("--bing-conversation-cap", type=int, default=30, show_default=True)
@click.option("--bing-daily-cap", type=int, default=300, show_default=True)
@click.option(
    "--bing-captcha", is_flag=True, help="Answer every ChatHub prompt with CaptchaChallenge."
)
@click.option("--copilot-chats", type=int, default=0, show_default=True)
@click.option(
    "--copilot-token",
    default="emulator-copilot-token",
    show_default=True,
    help="Accepted Copilot token.",
)
@click.option("--copilot-identity-type", default=None, help="Require this x-useridentitytype.")
@click.option(
    "--copilot-challenge",
    type=click.Choice(["none", "empty", "hashcash", "cloudflare"]),
    default="none",
    show_default=True,
    help="The challenge each Copilot chat socket asks once.",
)
@click.option("--copilot-hashcash-bits", type=int, default=12, show_default=True)
@click.option("--copilot-error", default=None, help="Answer every Copilot prompt with this error.")
@click.option("--latency-ms", type=int, default=0, show_default=True)
@click.option("--fail-rate", type=float, default=0.0, show_default=True)
@click.option(
    "--rate-limit", type=int, default=0, show_default=True, help="Requests/minute/credential."
)
@click.option("--rate-burst", type=int, default=None, help="Bucket size [default: max(1, N//60)].")
@click.option("--no-retry-after", is_flag=True, help="Omit Retry-After on 429.")
@click.option("--challenge-rate", type=float, default=0.0, show_default=True)
@click.option("--drop-rate", type=float, default=0.0, show_default=True)
@click.option("--stream-delay-ms", type=int, default=0, show_default=True)
@click.option(
    "--session-cookie", default="emulator-session", show_default=True, help="Accepted session."
)
@click.option("--token-lifetime-s", type=float, default=10 * 86400, show_default=True)
@click.option("--challenge-script-agents", is_flag=True, help="Cloudflare page for scripts.")
@click.option("--projects", type=int, default=0, show_default=True)
@click.option("--project-conversations", type=int, default=3, show_default=True)
@click.option("--cursor-form", type=click.Choice(["string", "number"]), default="string")
@click.option("--gone-file-rate", type=float, default=0.0, show_default=True)
def emulator_command(no_retry_after: bool, **options: object) -> None:
    """Serve fake ChatGPT, Bing and Copilot upstreams on 127.0.0.1 until interrupted."""
    config = EmulatorConfig(retry_after=not no_retry_after, **options)  # type: ignore[arg-type]
    asyncio.run(_serve(config))


async def _serve(config: EmulatorConfig) -> None:
    runner, port = await start_site(config, EmulatorState(config))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # Scripts read this one line to learn the port.
    print(f"emulator ready http://{config.host}:{port}", flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
