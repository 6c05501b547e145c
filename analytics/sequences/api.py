"""Behaviour paths REST API: the latest Markov model of event-type transitions."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.sequences.selectors import behaviour_paths_latest, next_actions

VIEW_PERMISSION = "analytics.view_behaviourpaths"


class PathSerializer(serializers.Serializer):
    class Meta:
        ref_name = "BehaviourPath"

    steps = serializers.ListField(child=serializers.CharField())
    sessions = serializers.IntegerField()
    share = serializers.FloatField()


class NextActionSerializer(serializers.Serializer):
    class Meta:
        ref_name = "BehaviourNextAction"

    state = serializers.CharField()
    count = serializers.IntegerField()
    probability = serializers.FloatField()


class BehaviourPathsApi(APIView):
    """Sessions (events split where the gap exceeds the session gap), the transition counts
    between states (START, event types, EXIT; row = from, column = to), each state's
    next-action probabilities and the most common opening paths. ``null`` before the
    first computation."""

    required_permissions = {"GET": VIEW_PERMISSION}

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "BehaviourPaths"

        id = serializers.IntegerField()
        created_at = serializers.DateTimeField()
        gap_minutes = serializers.IntegerField()
        path_steps = serializers.IntegerField()
        events = serializers.IntegerField()
        sessions = serializers.IntegerField()
        states = serializers.ListField(child=serializers.CharField())
        transitions = serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()))
        next_actions = serializers.DictField(child=NextActionSerializer(many=True))
        paths = PathSerializer(many=True)

    @extend_schema(summary="Behaviour paths", responses={200: OutputSerializer})
    def get(self, request):
        paths = behaviour_paths_latest()
        if paths is None:
            return Response(None)
        data = {field: getattr(paths, field) for field in ("id", "created_at", "gap_minutes", "path_steps", "events",
                                                            "sessions", "states", "transitions", "paths")}  # fmt: skip
        data["next_actions"] = {state: next_actions(paths, state) for state in paths.states[:-1]}
        return Response(self.OutputSerializer(data).data)
