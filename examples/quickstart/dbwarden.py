"""dbwarden configuration of the quickstart: one SQLite database next to this file."""

from dbwarden_nb import database_config

database_config(
    database_name="primary",
    default=True,
    database_type="sqlite",
    database_url="sqlite:///./shop.db",
    model_paths=["shop.models"],
)
