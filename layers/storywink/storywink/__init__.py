"""Storywink: a family's photos in, an illustrated picture book out."""
