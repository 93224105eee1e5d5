"""Learning: EP gradient estimators, the exact-gradient checks, the optimiser and the trainer."""
