"""What each generation step does: story, illustration, finalize, PDF. Workers call in here."""
