"""The graph and consultations in other formats: RDF serialisations, graph formats, the HTML page."""
