"""Core behaviour through the fakes: fast, no I/O."""
