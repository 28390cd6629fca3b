"""Building a model folder (models/<name>/) from public exports."""
