"""The search index becomes an inverted index: ``SearchPosting`` (document, term) replaces
``SearchGram``; the postings of the stored documents are rebuilt from their title and body."""

import django.db.models.deletion
from django.db import migrations, models


#: On SQLite the postings are a WITHOUT ROWID table: the primary key (doc_id, term) is the table,
#: so checking a candidate is one B-tree descent that also reads ``in_title`` (and the table
#: is about half the size). Same columns, key and index as on PostgreSQL.
SQLITE_TABLE = (
    'CREATE TABLE "portal_searchposting" ("doc_id" bigint NOT NULL REFERENCES "portal_searchdoc"'
    ' ("id") DEFERRABLE INITIALLY DEFERRED, "term" varchar(65) NOT NULL, "in_title" bool NOT NULL,'
    ' "day" integer NOT NULL, PRIMARY KEY ("doc_id", "term")) WITHOUT ROWID'
)
SQLITE_INDEX = (
    'CREATE INDEX "portal_posting_rank" ON "portal_searchposting" '
    '("term", "in_title", "day", "doc_id")'
)


def create_table(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_TABLE)
        schema_editor.execute(SQLITE_INDEX)
    else:
        schema_editor.create_model(apps.get_model("portal", "SearchPosting"))


def drop_table(apps, schema_editor):  # type: ignore[no-untyped-def]
    schema_editor.delete_model(apps.get_model("portal", "SearchPosting"))


def rebuild_postings(apps, schema_editor):  # type: ignore[no-untyped-def]
    from certhall.portal.textindex import terms

    doc_model = apps.get_model("portal", "SearchDoc")
    posting_model = apps.get_model("portal", "SearchPosting")
    rows = []
    for doc in doc_model.objects.all():
        title_terms = terms(doc.title)
        for term in sorted(title_terms | terms(doc.body)):
            rows.append(
                posting_model(
                    doc_id=doc.pk,
                    term=term,
                    in_title=term in title_terms,
                    day=doc.date.toordinal(),
                )
            )
    posting_model.objects.bulk_create(rows, batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0001_initial"),
    ]

    operations = [
        migrations.DeleteModel(name="SearchGram"),
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="SearchPosting",
                    fields=[
                        (
                            "pk",
                            models.CompositePrimaryKey(
                                "doc_id",
                                "term",
                                blank=True,
                                editable=False,
                                primary_key=True,
                                serialize=False,
                            ),
                        ),
                        (
                            "doc",
                            models.ForeignKey(
                                db_index=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="postings",
                                to="portal.searchdoc",
                            ),
                        ),
                        ("term", models.CharField(max_length=65)),
                        ("in_title", models.BooleanField()),
                        ("day", models.IntegerField()),
                    ],
                    options={
                        "indexes": [
                            models.Index(
                                fields=["term", "in_title", "day", "doc"],
                                name="portal_posting_rank",
                            )
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(create_table, drop_table),
        migrations.RunPython(rebuild_postings, migrations.RunPython.noop),
    ]
