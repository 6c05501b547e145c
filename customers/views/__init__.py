"""Customer pages: browsing profiles (profiles.py) and importing files (imports.py)."""
