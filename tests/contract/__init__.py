"""One behavioural suite per port, run against the fake and the real adapter."""
