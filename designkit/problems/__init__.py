"""Design problems: geometry, sources, probes, loss and metrics behind one interface."""
