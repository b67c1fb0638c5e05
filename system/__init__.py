"""What hemkg asks of the operating system: files written safely (-o), and child processes that die with their parent."""
