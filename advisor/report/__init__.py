"""Outputs: terminal tables, and files (CSV, JSON, broker basket)."""
