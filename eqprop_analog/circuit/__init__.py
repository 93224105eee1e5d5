"""Circuit description: what is connected to what. Knows nothing of solvers or learning."""
