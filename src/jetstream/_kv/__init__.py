"""Key/Value buckets (ADR-8): entries, the bucket manager, watches."""
