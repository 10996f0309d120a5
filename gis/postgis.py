"""PostGIS: read layers from a database and write results to it.

A source is a URL with the table (or an SQL query) after ``#``::

    postgresql://planner@db.example/city#public.estates
    postgresql:///city#SELECT * FROM estates WHERE district = '海州区'

and a target is a URL with a schema: ``postgresql://planner@db.example/city#results``.
Reading goes through `geopandas.read_postgis` (SQLAlchemy + psycopg), then through the
same checks as a file (`gis.layers`). Writing puts every table and a row of the run
metadata table ``gis_runs`` in one transaction, so they appear together or not at all,
each geometry table with a GiST spatial index.

Credentials come only from the URL, the standard ``PG*`` environment variables
(``PGHOST``, ``PGUSER``, ``PGPASSWORD`` …) or ``~/.pgpass``, all read by libpq; they are
never printed: messages name the server as ``host:port/database`` and nothing more.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import geopandas as gpd
import pandas as pd

from gis.errors import CRSError, InputError

__all__ = [
    "PgSource",
    "is_postgis",
    "last_run",
    "parse_source",
    "read_postgis_layer",
    "redact",
    "table_digest",
    "write_tables",
]

PREFIXES = ("postgresql://", "postgres://", "postgresql+psycopg://")
RUNS_TABLE = "gis_runs"
_IDENT = re.compile(r"^[^\W\d]\w{0,62}$", re.UNICODE)


def is_postgis(source: Any) -> bool:
    """True for a ``postgresql://`` source or target.

    Examples
    --------
    >>> is_postgis("postgresql://planner@db.local/city#public.estates"), is_postgis("estates.gpkg")
    (True, False)
    """
    return isinstance(source, str) and source.strip().lower().startswith(PREFIXES)


@dataclass(frozen=True)
class PgSource:
    """A parsed source: connection URL, and a schema with a table, or a query."""

    url: str
    schema: str
    table: str | None
    query: str | None
    server: str  # host:port/database, safe to print

    @property
    def label(self) -> str:
        """How messages name the source (no user, no password)."""
        what = f"{self.schema}.{self.table}" if self.table else _short(self.query or "")
        return f"PostGIS {self.server}#{what}"


def parse_source(text: str, *, need: str = "table") -> PgSource:
    """Split ``URL#schema.table`` / ``URL#SQL`` (``need="table"``) or ``URL#schema``
    (``need="schema"``).

    Raises
    ------
    InputError
        Nothing after ``#`` where a table is needed, or a name that is not an identifier.

    Examples
    --------
    >>> src = parse_source("postgresql://planner:secret@db.local/city#public.estates")
    >>> src.schema, src.table, src.server
    ('public', 'estates', 'db.local:5432/city')
    >>> src.label  # no user, no password
    'PostGIS db.local:5432/city#public.estates'
    >>> parse_source("postgresql://db.local/city#SELECT * FROM survey.estates").query
    'SELECT * FROM survey.estates'
    >>> parse_source("postgresql://db.local/city#results", need="schema").schema
    'results'
    >>> parse_source("postgresql://db.local/city")
    Traceback (most recent call last):
    ...
    gis.errors.InputError: PostGIS db.local:5432/city: name the table after '#', e.g. …/city#public.estates, or give an SQL query after '#'.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    url, _, frag = text.strip().partition("#")
    frag = unquote(frag).strip()
    try:
        u = make_url(url.replace("postgres://", "postgresql://", 1))
    except (ArgumentError, ValueError) as err:
        # The parser's own message repeats the URL, password included: not shown.
        msg = (f"{redact(text)}: not a PostgreSQL URL; use "
               "postgresql://user@host/db#schema.table.")
        raise InputError(msg) from err
    if u.drivername == "postgresql":
        u = u.set(drivername="postgresql+psycopg")  # psycopg 3 (with its own libpq)
    server = f"{u.host or 'localhost'}:{u.port or 5432}/{u.database or ''}"
    clean = u.render_as_string(hide_password=False)
    if need == "schema":
        schema = frag or "public"
        _check_ident(schema, text, "schema")
        return PgSource(clean, schema, None, None, server)
    if not frag:
        msg = (f"PostGIS {server}: name the table after '#', e.g. …/{u.database or 'db'}"
               "#public.estates, or give an SQL query after '#'.")
        raise InputError(msg)
    if re.match(r"(?is)^\s*(select|with)\s", frag):
        return PgSource(clean, "", None, frag, server)
    schema, _, table = frag.rpartition(".")
    schema = schema or "public"
    _check_ident(schema, text, "schema")
    _check_ident(table, text, "table")
    return PgSource(clean, schema, table, None, server)


def _check_ident(name: str, text: str, what: str) -> None:
    if not _IDENT.match(name):
        msg = (f"{redact(text)}: {what} name {name!r} is not a plain identifier (letters, "
               "digits, '_'); quote-free names only, or give an SQL query after '#'.")
        raise InputError(msg)


def _short(query: str, n: int = 60) -> str:
    one = " ".join(query.split())
    return one if len(one) <= n else one[: n - 1] + "…"


def redact(text: str) -> str:
    """A URL fit to print: user and password removed.

    Examples
    --------
    >>> redact("postgresql://planner:secret@db.local:5433/city#public.estates")
    'postgresql://db.local:5433/city#public.estates'
    """
    return re.sub(r"(?i)^(postgres(?:ql)?(?:\+\w+)?://)[^@/]*@", r"\1", text.strip())


def _engine(src: PgSource) -> Any:
    from sqlalchemy import create_engine

    # libpq fills what the URL leaves out from PG* variables and ~/.pgpass.
    return create_engine(src.url, connect_args={"connect_timeout": 10}, poolclass=_null_pool())


def _null_pool() -> Any:
    from sqlalchemy.pool import NullPool

    return NullPool


def _connect(src: PgSource) -> Any:
    from sqlalchemy.exc import DBAPIError

    try:
        return _engine(src).connect()
    except DBAPIError as err:
        msg = (f"PostGIS {src.server}: cannot connect ({_first_line(err)}). Check host, port "
               "and database, and the credentials in the URL, PGUSER/PGPASSWORD or ~/.pgpass.")
        raise InputError(msg) from None


def _first_line(err: BaseException) -> str:
    orig = getattr(err, "orig", None) or err
    lines = [ln.strip() for ln in str(orig).splitlines() if ln.strip()]
    # libpq puts the server's reason last ("FATAL: database … does not exist").
    useful = [ln for ln in lines if ln.startswith(("FATAL", "ERROR"))] or lines[-1:] or ["?"]
    return re.sub(r"password=\S+", "password=***", useful[0])


def _geometry_oid(conn: Any) -> int | None:
    from sqlalchemy import text

    return conn.execute(text("SELECT to_regtype('geometry')::oid")).scalar()


def read_postgis_layer(source: str, *, crs: Any = None) -> tuple[gpd.GeoDataFrame, str]:
    """Read a PostGIS table or query as a GeoDataFrame; return it and its label.

    Raises
    ------
    InputError
        Cannot connect, no such table, no geometry column, a failing query.
    CRSError
        Geometries without an SRID and no ``crs`` given.

    Examples
    --------
    Needs a PostGIS server (tests/pg_server.py starts a throw-away one for the tests):

    >>> estates, label = read_postgis_layer(
    ...     "postgresql://planner@db.local/city#public.estates")  # doctest: +SKIP
    >>> label  # doctest: +SKIP
    'PostGIS db.local:5432/city#public.estates'
    """
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    src = parse_source(source)
    with _connect(src) as conn:
        if _geometry_oid(conn) is None:
            msg = (f"{src.label}: the database has no PostGIS; run CREATE EXTENSION postgis "
                   "in it (as its owner).")
            raise InputError(msg)
        if src.table is not None:
            found = conn.execute(text(
                "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = :s AND c.relname = :t AND c.relkind IN ('r','v','m','p','f')"),
                {"s": src.schema, "t": src.table}).scalar()
            if not found:
                names = conn.execute(text(
                    "SELECT f_table_schema || '.' || f_table_name FROM geometry_columns "
                    "ORDER BY 1 LIMIT 8")).scalars().all()
                hint = f" Tables with geometry there: {', '.join(names)}." if names else ""
                msg = f"{src.label}: no such table in database {src.server}.{hint}"
                raise InputError(msg)
            sql = f'SELECT * FROM "{src.schema}"."{src.table}"'
        else:
            sql = src.query or ""
        try:
            probe = conn.execute(text(f"SELECT * FROM ({sql}) AS q LIMIT 0"))
        except DBAPIError as err:
            msg = f"{src.label}: the query failed ({_first_line(err)})."
            raise InputError(msg) from None
        geom_oid = _geometry_oid(conn)
        geom_cols = [d[0] for d in probe.cursor.description if d[1] == geom_oid]
        probe.close()
        if not geom_cols:
            msg = (f"{src.label}: has no geometry column; give a table with a PostGIS geometry "
                   "column, or a query that selects one.")
            raise InputError(msg)
        geom = geom_cols[0]
        srids = conn.execute(text(
            f'SELECT DISTINCT ST_SRID("{geom}") FROM ({sql}) AS q WHERE "{geom}" IS NOT NULL '
            "LIMIT 3")).scalars().all()
        if len(srids) > 1:
            msg = (f"{src.label}: geometries carry different SRIDs ({', '.join(map(str, srids))}); "
                   "transform them to one (ST_Transform) first.")
            raise CRSError(msg)
        srid = srids[0] if srids else 0
        if not srid and crs is None:
            msg = (f"{src.label}: column {geom} has no SRID (0), so its coordinates cannot be "
                   "placed. Set it in the database (UPDATE … SET geom = ST_SetSRID(geom, 4490)) "
                   "or pass `input_crs`.")
            raise CRSError(msg)
        gdf = gpd.read_postgis(text(sql), conn, geom_col=geom, crs=f"EPSG:{srid}" if srid else crs)
    if geom != "geometry":
        gdf = gdf.rename_geometry("geometry")
    return gdf, src.label


def table_digest(source: str) -> str:
    """SHA-256 of a table's or query's rows, whatever their order (for fingerprints).

    Examples
    --------
    Needs a PostGIS server:

    >>> len(table_digest("postgresql://planner@db.local/city#public.estates"))  # doctest: +SKIP
    64
    """
    from sqlalchemy import text

    src = parse_source(source)
    sql = f'SELECT * FROM "{src.schema}"."{src.table}"' if src.table else src.query
    with _connect(src) as conn:
        value = conn.execute(text(
            f"SELECT md5(string_agg(md5(q::text), '' ORDER BY md5(q::text))) FROM ({sql}) AS q"
        )).scalar()
    return hashlib.sha256(f"{src.label}|{value}".encode()).hexdigest()


def write_tables(
    target: str,
    tables: dict[str, pd.DataFrame],
    *,
    run: dict[str, Any],
) -> list[str]:
    """Write ``tables`` into the target schema and record the run, in one transaction.

    GeoDataFrames become geometry tables with a GiST index; plain DataFrames plain tables.
    Tables of the same name are replaced. ``run`` (JSON-serialisable: command, parameters,
    inputs, summary) becomes a row of ``<schema>.gis_runs``.

    Returns
    -------
    list of str
        ``schema.table`` of each table written.

    Examples
    --------
    Needs a PostGIS server:

    >>> import geopandas as gpd
    >>> from gis.sources import demo_folder
    >>> estates = gpd.read_file(demo_folder() / "estates.gpkg")
    >>> write_tables("postgresql://planner@db.local/city#results", {"estates": estates},
    ...              run={"command": "coverage", "code": "demo"})  # doctest: +SKIP
    ['results.estates']
    """
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    src = parse_source(target, need="schema")
    for name in tables:
        _check_ident(name, target, "table")
    written = []
    engine = _engine(src)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{src.schema}"'))
            for name, df in tables.items():
                if isinstance(df, gpd.GeoDataFrame):
                    df.to_postgis(name, conn, schema=src.schema, if_exists="replace", index=False)
                    geom = df.geometry.name
                    conn.execute(text(
                        f'CREATE INDEX IF NOT EXISTS "{name}_{geom}_gist" ON '
                        f'"{src.schema}"."{name}" USING GIST ("{geom}")'))
                else:
                    df.to_sql(name, conn, schema=src.schema, if_exists="replace", index=False)
                written.append(f"{src.schema}.{name}")
            conn.execute(text(
                f'CREATE TABLE IF NOT EXISTS "{src.schema}"."{RUNS_TABLE}" ('
                "run_id bigserial PRIMARY KEY, finished_at timestamptz NOT NULL DEFAULT now(), "
                "tables text[] NOT NULL, run jsonb NOT NULL)"))
            conn.execute(text(
                f'INSERT INTO "{src.schema}"."{RUNS_TABLE}" (tables, run) '
                "VALUES (:tables, CAST(:run AS jsonb))"),
                {"tables": written, "run": json.dumps(run, ensure_ascii=False, default=str)})
    except DBAPIError as err:
        if getattr(err, "connection_invalidated", False) or "connect" in str(err).lower()[:200]:
            msg = (f"PostGIS {src.server}: cannot connect ({_first_line(err)}). Check host, "
                   "port and database, and the credentials in the URL, PGUSER/PGPASSWORD or "
                   "~/.pgpass.")
        else:
            msg = (f"PostGIS {src.server}#{src.schema}: writing failed, nothing written "
                   f"({_first_line(err)}).")
        raise InputError(msg) from None
    finally:
        engine.dispose()
    return written


def last_run(target: str, *, code: str) -> dict[str, Any] | None:
    """The latest ``gis_runs`` record of a batch city (``run->>'code'``) in the target
    schema, if its tables are all still there; None when there is none (or no table).

    Examples
    --------
    Needs a PostGIS server (after the `write_tables` example):

    >>> last_run("postgresql://planner@db.local/city#results", code="demo")  # doctest: +SKIP
    {'code': 'demo', 'command': 'coverage'}
    """
    from sqlalchemy import text

    src = parse_source(target, need="schema")
    with _connect(src) as conn:
        exists = conn.execute(text("SELECT to_regclass(:t)"),
                              {"t": f'"{src.schema}"."{RUNS_TABLE}"'}).scalar()
        if not exists:
            return None
        row = conn.execute(text(
            f'SELECT tables, run FROM "{src.schema}"."{RUNS_TABLE}" '
            "WHERE run->>'code' = :c ORDER BY run_id DESC LIMIT 1"), {"c": code}).first()
        if row is None:
            return None
        for name in row[0]:
            if not conn.execute(text("SELECT to_regclass(:t)"),
                                {"t": '"' + name.replace(".", '"."', 1) + '"'}).scalar():
                return None
    return row[1] if isinstance(row[1], dict) else json.loads(row[1])
