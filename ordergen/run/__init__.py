"""A rebalance run, read top to bottom: a request, its inputs from their sources, the
engine that turns inputs into results, and execution to a sink (file or MongoDB)."""
