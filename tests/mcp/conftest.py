from tests.support.sample_archive import archive, archive_path

__all__ = ["archive", "archive_path"]
