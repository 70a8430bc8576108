"""Maintenance and installed base: equipment, work orders, failure model, parts demand from causes,
failure clusters and the life cycle of parts (supersession, phase-out). Plain pandas/numpy/scipy."""
