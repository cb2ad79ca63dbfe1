"""The transport seam (``base.Transport``: aiohttp, curl_cffi, or ``mock.MockTransport`` in
tests), under one rate limiter and one retry policy shared by every upstream (``http``), and
the sans-I/O helpers every client uses (requests, responses, SSE)."""
