"""Publishing: awaited publish, the windowed publish_async, atomic batches."""
