"""Campaign pages (``pages``) and their htmx fragments (``partials``)."""

from campaigns.views import pages, partials
from campaigns.views.pages import index

__all__ = ["index", "pages", "partials"]
