"""Image handling shared by uploads, providers and printing: checking and cleaning uploaded
photos, decoding pictures upright, sizing them, and encoding them as PNG."""
