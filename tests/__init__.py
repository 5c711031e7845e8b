"""The test suite: unit, contract and integration tests, and helpers they share."""
