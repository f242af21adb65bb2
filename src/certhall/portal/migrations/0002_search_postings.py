"""The search index becomes an inverted index: ``SearchPosting`` (document, term) replaces
``SearchGram``; the postings of the stored documents are rebuilt from their title and body."""

import django.db.models.deletion
from django.db import migrations, models


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
                        fields=["term", "in_title", "day", "doc"], name="portal_posting_rank"
                    )
                ],
            },
        ),
        migrations.RunPython(rebuild_postings, migrations.RunPython.noop),
    ]
