"""Command-line interface: thin Typer commands over the package's services."""
