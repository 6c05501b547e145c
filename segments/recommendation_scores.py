"""Customers' recommended category in the feature table.

Analytics stores every customer's top-N products (``analytics.ProductRecommendation``, the
active run's rows); segments copies the category of each customer's rank-1 product into
``CustomerFeatures.recommended_category`` so a rule can say "recommended category is
Shoes". One UPDATE with a correlated subquery, served by the (customer, run, rank) unique
index; only rows whose value changes are written. Customers without a recommendation (no
active run, or a product without a category) get "".
"""

from django.db import connection, transaction

from analytics.models import ProductRecommendation, RecommendationRun
from customers.models import Product
from segments.models import CustomerFeatures

FEATURES_TABLE = CustomerFeatures._meta.db_table


@transaction.atomic
def features_recommendation_update() -> int:
    """Set ``recommended_category`` for every feature row; returns rows changed. Safe to
    run twice (the second run changes nothing)."""
    runs = RecommendationRun._meta.db_table
    recommendations = ProductRecommendation._meta.db_table
    products = Product._meta.db_table
    differs = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    top = (
        f"COALESCE((SELECT p.category FROM {recommendations} r JOIN {products} p ON p.id = r.product_id "
        f"WHERE r.customer_id = {FEATURES_TABLE}.customer_id AND r.rank = 1 "
        f"AND r.run_id = (SELECT id FROM {runs} WHERE active = %s)), '')"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {FEATURES_TABLE} SET recommended_category = {top} WHERE recommended_category {differs} {top}",
            [True, True],
        )
        return max(cursor.rowcount, 0)
