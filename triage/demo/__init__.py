"""Calibrated synthetic demo data."""
