"""The knowledge as loaded data: the store, its statements and vocabulary, checks, element data and the disk cache."""
