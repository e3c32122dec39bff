"""Code the functions share, imported absolutely (the app folder is on sys.path)."""
