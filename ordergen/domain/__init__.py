"""Pure domain rules: models, holdings, market value. No I/O, no solver."""
