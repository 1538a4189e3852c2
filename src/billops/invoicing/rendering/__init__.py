"""Billing documents as HTML and PDF, from plain values (views.py) and never from the models."""
