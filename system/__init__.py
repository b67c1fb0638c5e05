"""What hemkg asks of the operating system.

Files written safely (-o), child processes that die with their parent, the cycle collector paused for a
consultation, and the bounded caches a process keeps of its answers' parts.
"""
