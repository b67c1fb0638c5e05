"""Screening the composition space: the rules as array look-ups, the candidate space, the run and its writers."""
