"""Batch prompts: a CSV of prompts through a chat account, every answer recorded, resumable."""

from archiver.batch.csvinput import BatchInput, BatchRow, read_batch_csv
from archiver.batch.results import write_results
from archiver.batch.runner import BatchOptions, BatchSummary, run_batch

__all__ = [
    "BatchInput",
    "BatchOptions",
    "BatchRow",
    "BatchSummary",
    "read_batch_csv",
    "run_batch",
    "write_results",
]
