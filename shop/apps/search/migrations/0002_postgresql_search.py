"""
PostgreSQL's own search for the listing rows: a ``search_vector`` generated from the
title (weight A) and the rest of the search text (weight B) with the ``russian``
configuration (ё read as е, as shoppers type it), its GIN index, and a trigram index on
the title for near misses (``pg_trgm``). Other databases (the SQLite demo) search the
stored stems instead, so nothing is done there.
"""

from django.db import migrations

VECTOR = (
    "setweight(to_tsvector('russian'::regconfig, replace(lower(title), 'ё', 'е')), 'A') || "
    "setweight(to_tsvector('russian'::regconfig, replace(lower(text), 'ё', 'е')), 'B')"
)

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"ALTER TABLE search_productdocument ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({VECTOR}) STORED",
    "CREATE INDEX search_doc_vector ON search_productdocument USING gin (search_vector)",
    "CREATE INDEX search_doc_title_trgm ON search_productdocument USING gin (lower(title) gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS search_doc_title_trgm",
    "DROP INDEX IF EXISTS search_doc_vector",
    "ALTER TABLE search_productdocument DROP COLUMN IF EXISTS search_vector",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
