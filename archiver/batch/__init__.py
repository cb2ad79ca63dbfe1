"""Batch prompts: a CSV of prompts through a chat account, every answer recorded, resumable."""

from archiver.batch.csvinput import BatchInput, BatchRow, read_batch_csv
from archiver.batch.results import write_results
from archiver.batch.runner import BatchOptions, BatchSummary, run_batch
from archiver.batch.sender import ProviderOptions

__all__ = [
    "BatchInput",
    "BatchOptions",
    "BatchRow",
    "BatchSummary",
    "ProviderOptions",
    "read_batch_csv",
    "run_batch",
    "write_results",
]
