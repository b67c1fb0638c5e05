"""What hemkg asks of the operating system.

Files written safely (-o), and child processes that die with their parent.
"""
