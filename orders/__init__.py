"""Orders: branches, the order aggregate, its state machine and its API."""
