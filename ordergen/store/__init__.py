"""MongoDB as the system of record: models, runs, per-portfolio results and orders."""
