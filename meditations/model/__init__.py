"""The data every stage shares: a validated script, its timeline, breathing patterns, durations, times as
people write them, and the errors the engine raises. Imports nothing else of meditate."""
