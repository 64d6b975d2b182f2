"""Small, typed queries over the domain models, one module per aggregate; no handler logic."""
