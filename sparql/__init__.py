"""SPARQL over the graph: checked queries, named questions, the endpoint, remote stores."""
