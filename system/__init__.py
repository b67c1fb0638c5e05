"""What hemkg asks of the operating system.

Files written safely (-o), child processes that die with their parent, and the cycle collector paused for a
consultation.
"""
