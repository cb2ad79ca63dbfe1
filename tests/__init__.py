"""The test suite as a package, so helpers import as ``tests.support.<module>``."""
