"""Frozen inputs: network and scenario specs and the rules between them. No I/O; imports nothing above it."""
