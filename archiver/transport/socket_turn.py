"""How one chat-socket turn (Bing's ChatHub, Copilot's chat) fails, said once: a refused
handshake, a turn that outlives its timeout and a dropped connection all become the provider's
"broken socket" error (a TransientError: the whole turn is worth retrying). The messages name
only ``place``: a socket URL can carry a credential in its query."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from archiver.errors import TransientError
from archiver.transport.base import SocketRefused, TransportError


@contextmanager
def socket_failures(
    place: str,
    broken: type[TransientError],
    *,
    timeout_seconds: float,
    refused: Callable[[SocketRefused], None],
    waited_for: str = "answer",
) -> Iterator[None]:
    """Around a turn's socket. A refused handshake goes to ``refused`` first, which raises
    what the status means (auth, quota, challenge); otherwise it is ``broken`` too."""
    try:
        yield
    except SocketRefused as exc:
        refused(exc)
        raise broken(f"{place}: handshake failed ({exc.status})") from None
    except TimeoutError:
        raise broken(f"{place}: no {waited_for} within {timeout_seconds:.0f} s") from None
    except (TransportError, ConnectionError) as exc:
        reason = exc.reason if isinstance(exc, TransportError) else type(exc).__name__
        raise broken(f"{place}: connection failed ({reason})") from None


__all__ = ["socket_failures"]
