"""Print output: the book as a PDF a parent can print."""
