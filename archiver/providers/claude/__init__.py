"""Claude (claude.ai): backup of every branch, its data export, batches."""
