"""A seeded fictional city for demos, tests and benchmarks (not part of the core)."""
