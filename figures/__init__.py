"""Figures a researcher can put in a paper (issue 14), drawn with matplotlib (the optional extra `hemkg[plot]`).

- `periodic.periodic_table(candidate=None, ion="Li")`: the periodic table coloured by the planes of
  Fig. 6a and the other element groups of the graph; with a candidate, its elements outlined and
  labelled with their roles and evidence in that consultation;
- `pareto.pareto(rows, objectives)`: a screen's Pareto front on two or three objectives;
- `capacity.capacity(candidate, ion="Li")`: the theoretical capacity by mechanism beside the specific
  capacities the paper reports for the same composition or the same elements.

Each returns a `matplotlib.figure.Figure` (made without pyplot, so a notebook's own backend is left
alone); `base.save(figure, path)` writes it as PNG (300 dpi), SVG or PDF, whole or not at all.
matplotlib is imported inside the functions only: `import hemkg.figures` costs nothing without it.
"""
