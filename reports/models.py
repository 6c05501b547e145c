"""The reports' own tables: pre-aggregated figures refreshed by Celery, and saved report
definitions. Each report package keeps its tables in its own ``models.py``; they are
imported here so Django finds them."""

from reports.dashboard.models import DailySales, DailySalesRefresh, DashboardSnapshot  # noqa: F401
from reports.funnels.models import EventTimeline, EventTimelineRefresh, Funnel  # noqa: F401
from reports.retention.models import CohortCell, CustomerPeriodActivity, RetentionRefresh  # noqa: F401
