"""Behaviour paths REST API: the most common paths, where sessions end and the transition
probabilities of the latest Markov model computation. Read-only: computing is analytics'
(``/analytics/paths/``)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.sequences.api import VIEW_PERMISSION
from reports.paths.selectors import paths_report

__all__ = ["VIEW_PERMISSION", "PathsReportApi"]


class ComputationSerializer(serializers.Serializer):
    class Meta:
        ref_name = "PathsReportComputation"

    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    gap_minutes = serializers.IntegerField(help_text="A longer gap between two events starts a new session.")
    path_steps = serializers.IntegerField(help_text="A path is this many first steps of a session.")
    since = serializers.DateTimeField(allow_null=True, help_text="Events from this moment on (null: all).")
    events = serializers.IntegerField()
    sessions = serializers.IntegerField()


class CommonPathSerializer(serializers.Serializer):
    class Meta:
        ref_name = "PathsReportPath"

    steps = serializers.ListField(child=serializers.CharField(), help_text="Ends in EXIT when the session did.")
    sessions = serializers.IntegerField()
    share = serializers.FloatField(help_text="Of all sessions.")


class ExitPointSerializer(serializers.Serializer):
    class Meta:
        ref_name = "PathsReportExit"

    state = serializers.CharField()
    visits = serializers.IntegerField(help_text="Steps taken at this state (a session can pass through it often).")
    exits = serializers.IntegerField(help_text="Sessions whose last step it was.")
    exit_probability = serializers.FloatField(help_text="P(EXIT | state) = exits / visits.")
    exit_share = serializers.FloatField(help_text="Share of all sessions that ended here.")


class PathsReportApi(APIView):
    """Sessions of the latest behaviour-sequence computation: the most common opening paths
    with their share of sessions, where sessions end (per state: visits, exits and
    P(EXIT | state)), and the transition matrix between states (START, event types, EXIT;
    row = from, column = to) as counts and row probabilities. ``computation`` is ``null``
    and the lists empty before the first computation."""

    required_permissions = {"GET": VIEW_PERMISSION}

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PathsReport"

        computation = ComputationSerializer(allow_null=True)
        paths = CommonPathSerializer(many=True)
        exits = ExitPointSerializer(many=True)
        states = serializers.ListField(child=serializers.CharField())
        counts = serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()))
        probabilities = serializers.ListField(child=serializers.ListField(child=serializers.FloatField()))

    @extend_schema(summary="Behaviour paths report", responses={200: OutputSerializer})
    def get(self, request):
        return Response(self.OutputSerializer(paths_report()).data)
