"""API keys: what they look like, where they are kept, and who may do what with them."""
