"""Generated models people keep (issue 20): on each backend, a schema with foreign keys of every shape (composite,
self-referential, many-to-many, one-to-one), enums, arrays, JSON and defaults is adopted through the CLI
(``roundtrip.adopt``: generate-models → baseline → zero diff → a fresh database built from the models equals the
original), and the code itself is judged: precise ``Mapped[...]`` types, enum classes, no noise, ``ruff check``."""

from __future__ import annotations

import re
import subprocess
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from roundtrip import adopt

SHOP = {
    "postgresql": """
        CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped', 'two words');
        CREATE TABLE customers (id serial PRIMARY KEY, name varchar(100) NOT NULL, email text UNIQUE, tags text[],
                                prefs jsonb, created_at timestamptz DEFAULT now());
        CREATE TABLE employees (id serial PRIMARY KEY, name text NOT NULL, manager_id integer REFERENCES employees(id));
        CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id integer NOT NULL REFERENCES customers(id)
                             ON DELETE CASCADE, status order_status NOT NULL DEFAULT 'pending', total numeric(10,2),
                             sold_by integer REFERENCES employees(id), checked_by integer REFERENCES employees(id),
                             ref uuid, scores integer[], history order_status[]);
        CREATE TABLE customer_profiles (id serial PRIMARY KEY, customer_id integer NOT NULL UNIQUE
                                        REFERENCES customers(id), bio text);
        CREATE TABLE products (id serial PRIMARY KEY, sku char(8) NOT NULL, price numeric(10,2) NOT NULL,
                               active boolean NOT NULL DEFAULT true, weight double precision);
        CREATE TABLE order_products (order_id bigint REFERENCES orders(id), product_id integer REFERENCES products(id),
                                     PRIMARY KEY (order_id, product_id));
        CREATE TABLE shipments (order_id bigint, line integer, shipped date, PRIMARY KEY (order_id, line));
        CREATE TABLE shipment_notes (id serial PRIMARY KEY, order_id bigint, line integer, note text,
                                     FOREIGN KEY (order_id, line) REFERENCES shipments(order_id, line));
    """,
    "sqlite": """
        CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL, email TEXT UNIQUE, prefs JSON,
                                created_at DATETIME DEFAULT CURRENT_TIMESTAMP);
        CREATE TABLE employees (id INTEGER PRIMARY KEY, name TEXT NOT NULL, manager_id INTEGER REFERENCES employees(id));
        CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id)
                             ON DELETE CASCADE, status VARCHAR(9) NOT NULL DEFAULT 'pending', total NUMERIC(10, 2),
                             sold_by INTEGER REFERENCES employees(id), checked_by INTEGER REFERENCES employees(id));
        CREATE TABLE customer_profiles (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL UNIQUE
                                        REFERENCES customers(id), bio TEXT);
        CREATE TABLE products (id INTEGER PRIMARY KEY, sku CHAR(8) NOT NULL, price NUMERIC(10, 2) NOT NULL,
                               active BOOLEAN NOT NULL DEFAULT 1, weight FLOAT);
        CREATE TABLE order_products (order_id INTEGER REFERENCES orders(id), product_id INTEGER REFERENCES products(id),
                                     PRIMARY KEY (order_id, product_id));
        CREATE TABLE shipments (order_id INTEGER, line INTEGER, shipped DATE, PRIMARY KEY (order_id, line));
        CREATE TABLE shipment_notes (id INTEGER PRIMARY KEY, order_id INTEGER, line INTEGER, note TEXT,
                                     FOREIGN KEY (order_id, line) REFERENCES shipments(order_id, line));
    """,
    "mariadb": """
        CREATE TABLE customers (id int AUTO_INCREMENT PRIMARY KEY, name varchar(100) NOT NULL, email varchar(200) UNIQUE,
                                prefs json, created_at datetime DEFAULT CURRENT_TIMESTAMP);
        CREATE TABLE employees (id int AUTO_INCREMENT PRIMARY KEY, name text NOT NULL, manager_id int,
                                FOREIGN KEY (manager_id) REFERENCES employees(id));
        CREATE TABLE orders (id bigint AUTO_INCREMENT PRIMARY KEY, customer_id int NOT NULL,
                             status enum('pending', 'paid', 'shipped') NOT NULL DEFAULT 'pending', total decimal(10,2),
                             sold_by int, checked_by int,
                             FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE CASCADE,
                             FOREIGN KEY (sold_by) REFERENCES employees(id),
                             FOREIGN KEY (checked_by) REFERENCES employees(id));
        CREATE TABLE customer_profiles (id int AUTO_INCREMENT PRIMARY KEY, customer_id int NOT NULL UNIQUE, bio text,
                                        FOREIGN KEY (customer_id) REFERENCES customers(id));
        CREATE TABLE products (id int AUTO_INCREMENT PRIMARY KEY, sku char(8) NOT NULL, price decimal(10,2) NOT NULL,
                               active bool NOT NULL DEFAULT 1, weight double);
        CREATE TABLE order_products (order_id bigint, product_id int, PRIMARY KEY (order_id, product_id),
                                     FOREIGN KEY (order_id) REFERENCES orders(id),
                                     FOREIGN KEY (product_id) REFERENCES products(id));
        CREATE TABLE shipments (order_id bigint, line int, shipped date, PRIMARY KEY (order_id, line));
        CREATE TABLE shipment_notes (id int AUTO_INCREMENT PRIMARY KEY, order_id bigint, line int, note text,
                                     FOREIGN KEY (order_id, line) REFERENCES shipments(order_id, line));
    """,
    "clickhouse": """
        CREATE TABLE events (id UInt64, at DateTime64(3, 'UTC') DEFAULT now64(3), day Date, kind Enum8('a' = 1, 'b' = 2),
                             note Nullable(String), amount Decimal(10, 2), ids Array(UInt32), ref UUID,
                             labels Map(String, UInt64), flag Bool)
            ENGINE = MergeTree ORDER BY id;
    """,
}
PROJECTS: dict[Path, object] = {}  # the adopted project of each models folder
URLS = {"postgresql": "pg_url", "sqlite": "sqlite_url", "mariadb": "mariadb_url", "clickhouse": "clickhouse_url"}


def ruff(folder: Path) -> subprocess.CompletedProcess[str]:
    """``ruff check`` of generated code with the project's rules for it (pyflakes, pycodestyle, import order, lines
    of at most 100 characters), run where the user's project is: dbwarden_nb and SQLAlchemy are both installed
    packages there (from this checkout's root, ruff would take dbwarden_nb for first-party code)."""
    pytest.importorskip("ruff", reason="ruff is in the dev extra")
    return subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--line-length", "100",
                           "--select", "E,F,W,I", "."], check=False, capture_output=True, text=True, cwd=folder)


def adopted(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Path]:
    if backend == "clickhouse":
        pytest.importorskip("clickhouse_connect")
    url = request.getfixturevalue(URLS[backend])
    fresh = request.getfixturevalue("fresh_url")(url)
    project = adopt(tmp_path / "project", url, backend, SHOP[backend], fresh)
    folder = project.root / "models"
    PROJECTS[folder] = project
    return "\n".join(f.read_text() for f in sorted(folder.glob("*.py"))), folder


@pytest.mark.parametrize("backend", sorted(SHOP))
def test_kept_models_round_trip_and_pass_ruff(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    code, folder = adopted(backend, request, tmp_path)
    assert "Mapped[Any]" not in code and "Optional[" not in code and "Mapped[list]" not in code
    EXPECTED[backend](code)
    assert not lines_over(code)
    checked = ruff(folder)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    if backend != "clickhouse":  # what Mapped[...] implies is left out: nullable=, the default type of int
        assert "nullable=" not in code, [line for line in code.splitlines() if "nullable=" in line]
        assert "mapped_column(sa.Integer()" not in code


@contextmanager
def imported(folder: Path, prefix: str) -> Iterator[types.ModuleType]:
    """The generated package in ``folder``, imported under a name of its own and forgotten afterwards."""
    import importlib.util

    name = f"{prefix}_{abs(hash(folder))}"
    spec = importlib.util.spec_from_file_location(name, folder / "__init__.py", submodule_search_locations=[str(folder)])
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    try:
        spec.loader.exec_module(package)
        yield package
    finally:
        for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
            del sys.modules[key]


def mapped(folder: Path) -> dict[str, dict[str, str]]:
    """Import the generated package, configure its mappers with SQLAlchemy's warnings as errors, and return each
    class's relationships: attribute → ``direction target`` (``secondary`` added for many-to-many)."""
    import warnings

    import sqlalchemy as sa

    with imported(folder, "_kept") as package:
        with warnings.catch_warnings():
            warnings.simplefilter("error", sa.exc.SAWarning)
            package.base.Base.registry.configure()
        out: dict[str, dict[str, str]] = {}
        for mapper in package.base.Base.registry.mappers:
            out[mapper.class_.__name__] = {
                r.key: f"{r.direction.name} {r.mapper.class_.__name__}"
                + (f" uselist={r.uselist}" if r.direction.name == "ONETOMANY" and not r.uselist else "")
                + (f" secondary={r.secondary.name}" if r.secondary is not None else "")
                for r in mapper.relationships}
        return out


# The relationships of the shop schema on every backend with foreign keys: many-to-one and one-to-many with
# back_populates, one-to-one (a unique foreign key), self-reference, two keys to one table, a composite key and a
# many-to-many through the pure association table order_products (which gets none of its own).
SHOP_RELATIONSHIPS = {
    "CustomerProfiles": {"customer": "MANYTOONE Customers"},
    "Customers": {"customer_profiles": "ONETOMANY CustomerProfiles uselist=False", "orders": "ONETOMANY Orders"},
    "Employees": {"manager": "MANYTOONE Employees", "employees_manager": "ONETOMANY Employees",
                  "orders_checked_by_employees": "ONETOMANY Orders", "orders_sold_by_employees": "ONETOMANY Orders"},
    "OrderProducts": {},
    "Orders": {"customer": "MANYTOONE Customers", "checked_by_employees": "MANYTOONE Employees",
               "sold_by_employees": "MANYTOONE Employees", "products": "MANYTOMANY Products secondary=order_products"},
    "Products": {"orders": "MANYTOMANY Orders secondary=order_products"},
    "ShipmentNotes": {"shipments": "MANYTOONE Shipments"},
    "Shipments": {"shipment_notes": "ONETOMANY ShipmentNotes"},
}


@pytest.mark.parametrize("backend", ["mariadb", "postgresql", "sqlite"])
def test_relationships_of_every_shape(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    code, folder = adopted(backend, request, tmp_path)
    assert mapped(folder) == SHOP_RELATIONSHIPS
    assert "remote_side='Employees.id'" in code and "secondary='order_products'" in code
    assert "foreign_keys='Orders.sold_by'" in code


def _postgresql(code: str) -> None:
    assert "class OrderStatus(str, enum.Enum):\n    PENDING = 'pending'" in code
    assert "    TWO_WORDS = 'two words'" in code
    assert "status: Mapped[OrderStatus] = " in code and "history: Mapped[list[OrderStatus] | None]" in code
    assert "tags: Mapped[list[str] | None]" in code and "scores: Mapped[list[int] | None]" in code
    assert "prefs: Mapped[dict[str, Any] | None]" in code and "ref: Mapped[uuid.UUID | None]" in code
    assert "created_at: Mapped[datetime.datetime | None]" in code and "total: Mapped[decimal.Decimal | None]" in code


def _sqlite(code: str) -> None:
    assert "prefs: Mapped[dict[str, Any] | None]" in code and "total: Mapped[decimal.Decimal | None]" in code
    assert "shipped: Mapped[datetime.date | None]" in code and "active: Mapped[bool]" in code


def _mariadb(code: str) -> None:
    assert "class Status(str, enum.Enum):\n    PENDING = 'pending'" in code and "status: Mapped[Status] = " in code
    assert "mysql.ENUM(Status, values_callable=lambda e: [m.value for m in e])" in code
    assert "prefs: Mapped[dict[str, Any] | None]" in code and "total: Mapped[decimal.Decimal | None]" in code
    assert "active: Mapped[bool]" in code and "created_at: Mapped[datetime.datetime | None]" in code


def _clickhouse(code: str) -> None:
    assert "events = sa.Table(" in code or "t_events = sa.Table(" in code  # no primary key: a Table, not a class


@pytest.mark.parametrize("spelled, python", [
    ("DateTime64(3, 'UTC')", "datetime.datetime"), ("Date", "datetime.date"), ("Nullable(String)", "str"),
    ("Decimal(10, 2)", "decimal.Decimal"), ("Array(UInt32)", "list[int]"), ("UUID", "uuid.UUID"),
    ("Map(String, UInt64)", "dict[str, int]"), ("Bool", "bool"), ("LowCardinality(Nullable(String))", "str"),
    ("Array(Nullable(Float64))", "list[float]"), ("Enum8('a' = 1, 'b' = 2)", "str"),
])
def test_clickhouse_python_types(spelled: str, python: str) -> None:
    from dbwarden_nb.backends import get_backend

    assert get_backend("clickhouse").python_type(spelled) == python


EXPECTED = {"postgresql": _postgresql, "sqlite": _sqlite, "mariadb": _mariadb, "clickhouse": _clickhouse}


def lines_over(code: str, limit: int = 100) -> list[str]:
    return [line for line in code.splitlines() if len(line) > limit and not re.search(r"# noqa: E501$", line)]



@pytest.mark.parametrize("code", [
    "info={'dbwarden': {'view': 'select `t`.`id` AS `id` from `t` where (`t`.`total` >= 100) and x = ' + 'y' * 40}}",
    "x: Mapped[list[int] | None] = mapped_column(sa.text('a, (b), [c]' + ' ' * 60), comment='it''s (\\'q\\')', a=1)",
    "sa.Index('ix', sa.text('lower(\"a, b\")'), info={'dbwarden': {'comment': 'one, two (three)', 'x': [1, 2]}}, u=1)",
    "sa.CheckConstraint('(a > 0) AND (b < 10) AND (c IN (1, 2, 3)) AND d = ''('' AND e = '')''', name='ck_long_name')",
])
def test_wrapped_code_is_the_same_code(code: str) -> None:
    """Wrapping never cuts inside a string or a nested bracket: the wrapped text parses to the same expression, and
    each line fits or is marked for ruff."""
    import ast

    from dbwarden_nb.models.codegen import wrap

    wrapped = wrap(code, 4)
    assert ast.dump(ast.parse(wrapped.strip())) == ast.dump(ast.parse(code))
    assert not lines_over(wrapped)


def dataclasses_work(folder: Path) -> None:
    """The dataclass models make rows: keys, defaults and foreign keys are left to the database and relationships."""
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    with imported(folder, "_kept_dc") as package:
        engine = sa.create_engine("sqlite://")
        package.base.Base.metadata.create_all(engine)
        Customers, Orders = package.customers.Customers, package.orders.Orders
        with Session(engine) as session:
            customer = Customers(name="Ada", orders=[Orders()])
            session.add(customer)
            session.commit()
            assert customer.id == 1 and customer.orders[0].customer_id == 1 and customer.orders[0].status == "pending"


@pytest.mark.parametrize("style", ["tables", "dataclass"])
@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_styles(backend: str, style: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """``--style tables``: a ``sa.Table`` per table, no classes; ``--style dataclass``: ``MappedAsDataclass`` classes
    whose ``__init__`` takes what the database does not fill. Both give zero operations and pass ruff."""
    from roundtrip import generated_config

    _, folder = adopted(backend, request, tmp_path)
    project = PROJECTS[folder]
    output = f"{style}_models"
    project.ok("generate-models", "--output", output, "--style", style)
    code = "\n".join(f.read_text() for f in sorted((project.root / output).glob("*.py")))
    if style == "tables":
        assert "t_orders = sa.Table(" in code and "class Orders" not in code and "relationship(" not in code
    else:
        assert "class Base(MappedAsDataclass, DeclarativeBase, kw_only=True):" in code
        assert "id: Mapped[int] = mapped_column(primary_key=True, default=None)" in code
        assert "orders: Mapped[list[Orders]] = relationship(back_populates='customer', default_factory=list)" in code
        mapped(project.root / output)  # the dataclasses map
        if backend == "sqlite":
            dataclasses_work(project.root / output)
    checked = ruff(project.root / output)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    config = generated_config(project, output)
    assert project.cli("--config", config, "diff", "--check").code == 0


def test_a_unique_index_over_an_expression_or_a_part_of_the_rows_is_no_one_to_one(sqlite_url: str, fresh_url,
                                                                                  tmp_path: Path) -> None:
    """UNIQUE (author_id, lower(title)) and UNIQUE (author_id) WHERE …: an author has many books (a one-to-one
    there would load one of them and warn)."""
    project = adopt(tmp_path / "project", sqlite_url, "sqlite", """
        CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE book (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES author (id), title TEXT);
        CREATE UNIQUE INDEX book_title ON book (author_id, lower(title));
        CREATE TABLE draft (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES author (id), live INTEGER);
        CREATE UNIQUE INDEX draft_live ON draft (author_id) WHERE live = 1;
    """, fresh_url(sqlite_url))
    code = "\n".join(f.read_text() for f in sorted((project.root / "models").glob("*.py")))
    assert re.search(r"\w+: Mapped\[list\[Book\]\] = relationship\(", code), code
    assert re.search(r"\w+: Mapped\[list\[Draft\]\] = relationship\(", code), code
