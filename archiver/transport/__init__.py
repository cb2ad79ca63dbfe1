"""The one aiohttp adapter (``http``), under one rate limiter and one retry policy shared by
every upstream, and the sans-I/O helpers every client uses (responses, SSE)."""
