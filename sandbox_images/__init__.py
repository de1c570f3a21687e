"""Dockerfile of the per-node sandbox image (data shipped with sgde)."""
