"""Each takeover test gets an empty database of its own, on SQLite or on the real MariaDB (the
end-to-end tests' fixture), to build the seed bot's schema in (tests/takeover/seed_db.py)."""

from tests.e2e.conftest import database_url  # noqa: F401  (the fixture)
