"""Customers' average sentiment in the feature table.

The scores are written by analytics (``analytics.ScoredText``: reviews, survey answers,
transcripts); segments copies their average per customer into
``CustomerFeatures.sentiment`` so rules, clustering and the profile can use it. Analytics
asks for the refresh by task name (``segments.features_sentiment_update``) because it may
not import segments.
"""

from django.db import connection, transaction

from analytics.models import ScoredText
from segments.models import CustomerFeatures

FEATURES_TABLE = CustomerFeatures._meta.db_table
SCORED_TABLE = ScoredText._meta.db_table


@transaction.atomic
def features_sentiment_update() -> int:
    """Set every feature row's ``sentiment`` to the average score (−1..1) of its customer's
    scored texts, NULL when the customer has none: one set-based UPDATE with a correlated
    AVG, touching only rows whose value changes. Returns the rows changed; safe to run twice."""
    differs = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    average = f"(SELECT AVG(s.score) FROM {SCORED_TABLE} AS s WHERE s.customer_id = {FEATURES_TABLE}.customer_id)"
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {FEATURES_TABLE} SET sentiment = {average} WHERE sentiment {differs} {average}")
        return max(cursor.rowcount, 0)
