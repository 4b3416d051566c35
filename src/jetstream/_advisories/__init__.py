"""Typed JetStream advisories: decoding the events into the generated Structs, the subjects they
come on, and the iterator that ``js.advisories()`` returns."""
