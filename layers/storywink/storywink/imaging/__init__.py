"""Image handling: checking uploaded photos are real and safe, and re-encoding them clean."""
