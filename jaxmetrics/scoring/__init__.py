"""Proper scoring rules for probabilistic forecasts (filled in by the scoring modules)."""
