"""
The words of the listed titles (:class:`~shop.apps.search.models.SearchWord`), where near
misses are now looked up, filled from the search documents there are. On PostgreSQL the
words get a trigram index and the titles lose theirs: comparing a misspelt word with every
title through that index took 250–800 ms on 100,000 products, and every title the import
wrote updated it.
"""

from django.db import migrations, models

FILL_POSTGRESQL = """
INSERT INTO search_searchword (word)
SELECT DISTINCT w FROM search_productdocument d
CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector('simple'::regconfig, replace(lower(d.title), 'ё', 'е')))) AS w
WHERE char_length(w) BETWEEN 3 AND 64 AND btrim(w, '0123456789+-.,/') <> ''
ON CONFLICT DO NOTHING
"""

FORWARD_POSTGRESQL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX search_word_trgm ON search_searchword USING gin (word gin_trgm_ops)",
    FILL_POSTGRESQL,
    "DROP INDEX IF EXISTS search_doc_title_trgm",
]
BACKWARD_POSTGRESQL = [
    "CREATE INDEX IF NOT EXISTS search_doc_title_trgm ON search_productdocument USING gin (lower(title) gin_trgm_ops)",
    "DROP INDEX IF EXISTS search_word_trgm",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in FORWARD_POSTGRESQL:
            schema_editor.execute(statement)
        return
    from shop.apps.search.indexing import title_words

    ProductDocument = apps.get_model("search", "ProductDocument")
    SearchWord = apps.get_model("search", "SearchWord")
    words = set()
    for title in ProductDocument.objects.values_list("title", flat=True).iterator():
        words.update(title_words(title))
    SearchWord.objects.bulk_create([SearchWord(word=word) for word in sorted(words)], ignore_conflicts=True)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in BACKWARD_POSTGRESQL:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("search", "0004_listing_identifiers")]

    operations = [
        migrations.CreateModel(
            name="SearchWord",
            fields=[("word", models.CharField(max_length=64, primary_key=True, serialize=False, verbose_name="Word"))],
            options={"verbose_name": "Search word", "verbose_name_plural": "Search words"},
        ),
        migrations.RunPython(forward, backward),
    ]
