"""Backups: walk an upstream's conversation lists, fetch what changed, save it.

``engine.run_backup`` is provider-neutral; each provider supplies a ``BackupSource``."""
