"""Use cases: one function per thing a user or a worker does. No HTTP, no SQL text."""
