"""File formats: reading models, positions and prices; writing orders and snapshots."""
