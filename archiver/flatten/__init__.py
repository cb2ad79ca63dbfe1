"""Pure functions from upstream JSON to archive rows. No I/O here, ever."""

from archiver.flatten.records import FLATTENER_VERSION, FlatConversation

__all__ = ["FLATTENER_VERSION", "FlatConversation"]
