"""The receivers' fixtures live in tests/conftest.py: the Docker follower's tests use them too."""
