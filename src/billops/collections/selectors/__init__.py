"""Reads of collections: aging, the worklist, a customer's collections timeline."""
