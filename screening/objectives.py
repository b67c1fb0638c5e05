"""What `hem screen --rank-by` and `--pareto` may name, and the result column each reads (higher is better).

A module of its own, without numpy, so that the CLI can offer the names without loading the screen.
"""

from __future__ import annotations

OBJECTIVES = {
    "capacity": "capacity_total",
    "capacity_contributors": "capacity_contributors",
    "cycling_stability": "stability_contributors",
    "fast_charging": "fast_charging_contributors",
    "entropy": "entropy_cation_R",
}
