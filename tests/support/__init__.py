"""Helpers shared by the tests: builders, fake upstreams, snapshots, job-file helpers."""
