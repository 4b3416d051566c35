"""Object Store (ADR-20): stores, chunked reads and writes, watches."""
