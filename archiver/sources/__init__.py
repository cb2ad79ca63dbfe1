"""Upstream clients. Parsing is sans-I/O (plain functions over bytes and dicts); the aiohttp
adapter in ``http`` is the only place that talks to the network, under one rate limiter and one
retry policy shared by every upstream."""
