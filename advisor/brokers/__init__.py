"""Brokers' positions exports read into portfolio files (`advisor import`)."""
