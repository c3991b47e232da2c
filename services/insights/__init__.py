"""Insights service: labour-market statistics, plan indicators, forecasts and charts, built from events alone (no personal data)."""
