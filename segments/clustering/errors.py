"""Why a clustering request or run was refused, as codes the API and the pages share.

A ``ClusteringError`` carries a code, the input field it is about (``None`` when it is about
the data rather than one field) and the numbers its message needs. The message is rendered
when it is read, in the reader's language: a run that fails on a worker stores the code and
the numbers, and the page shows the sentence in the viewer's language.
"""

from enum import StrEnum
from typing import Any

from django.utils.translation import gettext_lazy as _

from jobs.errors import CodedError


class ClusteringErrorCode(StrEnum):
    NO_FEATURES = "no_features"
    UNKNOWN_FEATURE = "unknown_feature"
    DUPLICATE_FEATURE = "duplicate_feature"
    UNKNOWN_ALGORITHM = "unknown_algorithm"
    INVALID_K = "invalid_k"
    UNKNOWN_SCOPE = "unknown_scope"
    SEGMENT_REQUIRED = "segment_required"
    SEGMENT_NOT_FOUND = "segment_not_found"
    SAMPLE_SIZE_REQUIRED = "sample_size_required"
    INVALID_SAMPLE_SIZE = "invalid_sample_size"
    TOO_MANY_CUSTOMERS = "too_many_customers"
    TOO_FEW_CUSTOMERS = "too_few_customers"
    TOO_FEW_DISTINCT = "too_few_distinct"
    RUN_NOT_FINISHED = "run_not_finished"
    UNKNOWN_CLUSTER = "unknown_cluster"
    NO_APPLIED_RUN = "no_applied_run"


MESSAGES: dict[ClusteringErrorCode, Any] = {
    ClusteringErrorCode.NO_FEATURES: _("Choose at least one feature."),
    ClusteringErrorCode.UNKNOWN_FEATURE: _("%(feature)s is not a feature clustering can use."),
    ClusteringErrorCode.DUPLICATE_FEATURE: _("%(feature)s is chosen twice."),
    ClusteringErrorCode.UNKNOWN_ALGORITHM: _("%(algorithm)s is not a clustering algorithm (use kmeans or ward)."),
    ClusteringErrorCode.INVALID_K: _("The number of clusters must be between %(low)d and %(high)d, not %(k)s."),
    ClusteringErrorCode.UNKNOWN_SCOPE: _("%(scope)s is not a scope (use all, segment or sample)."),
    ClusteringErrorCode.SEGMENT_REQUIRED: _("Choose the segment whose members are clustered."),
    ClusteringErrorCode.SEGMENT_NOT_FOUND: _("There is no segment with id %(segment_id)s."),
    ClusteringErrorCode.SAMPLE_SIZE_REQUIRED: _("Give the size of the random sample."),
    ClusteringErrorCode.INVALID_SAMPLE_SIZE: _("The sample size must be between %(low)d and %(high)d, not %(size)s."),
    ClusteringErrorCode.TOO_MANY_CUSTOMERS: _(
        "Hierarchical clustering handles at most %(limit)d customers; this scope has %(count)d. "
        "Choose a smaller segment, a sample of at most %(limit)d, or k-means."
    ),
    ClusteringErrorCode.TOO_FEW_CUSTOMERS: _(
        "Clustering needs at least %(needed)d customers; the scope has %(count)d."
    ),
    ClusteringErrorCode.TOO_FEW_DISTINCT: _(
        "Only %(distinct)d customers differ in the chosen features, too few for %(k)d clusters."
    ),
    ClusteringErrorCode.RUN_NOT_FINISHED: _("The clustering run has not finished successfully."),
    ClusteringErrorCode.UNKNOWN_CLUSTER: _("The run has clusters 1 to %(k)d, not %(cluster)s."),
    ClusteringErrorCode.NO_APPLIED_RUN: _("No clustering run is applied yet: run k-means over all customers first."),
}


class ClusteringError(CodedError):
    """A refused clustering request; ``field`` names the input at fault, if one is."""

    codes = ClusteringErrorCode
    messages = MESSAGES
