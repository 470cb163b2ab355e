"""Unit tests: one module at a time, with the fake engine or the tiny checkpoint; no server."""
