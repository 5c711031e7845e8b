"""The GitHub port: the fake and the REST adapter over the simulator."""
