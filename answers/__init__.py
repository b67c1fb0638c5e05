"""What a consultation or the graph answers, for people and for JSON: summaries, terminal text, describe, explain, stats."""
