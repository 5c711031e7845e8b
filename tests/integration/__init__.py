"""The HTTP app end to end: Litestar test client, real adapters."""
