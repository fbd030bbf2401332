"""Tariff comparison and the what-if simulator: one customer's tariff advice on request."""
