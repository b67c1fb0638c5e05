"""hemkg: the design guidelines for high-entropy-material battery anodes as a knowledge graph."""

__version__ = "0.1.0"
