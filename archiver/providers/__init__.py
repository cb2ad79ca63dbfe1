"""One package per upstream: its client (transport + sans-I/O parsing), flattener, backup
source, batch sender and options."""
