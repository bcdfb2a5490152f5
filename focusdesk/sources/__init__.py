"""Sources: one module per kind, all with the same small ingester interface."""
