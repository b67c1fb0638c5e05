"""One candidate through the rules: formula reading, rule facts, the consultation, estimates, batches, PROV-O."""
