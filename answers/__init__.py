"""What a consultation or the graph answers, for people and for JSON.

Summaries, terminal text, describe, explain, stats.
"""
