"""corridor.io."""
