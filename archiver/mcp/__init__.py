"""The archive as memory for other tools: the Model Context Protocol tools (``search``,
``get_conversation``, ``list_conversations``) over a read-only archive.

``tools`` answers the calls (plain dicts in, JSON-ready dicts out, ``ToolError`` for bad input);
``catalog`` says what each tool is to a model; ``server`` puts both behind the official ``mcp``
package's server, for ``archiver mcp`` (stdio) and ``archiver serve`` (``/mcp``)."""
