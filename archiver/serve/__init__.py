"""``archiver serve``: the seeds' REST gateways, an OpenAI-compatible endpoint and a viewer,
in front of the chat accounts, archiving every exchange."""
