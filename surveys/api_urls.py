from django.urls import path

from surveys import api

urlpatterns = [
    path("surveys/", api.SurveyListApi.as_view(), name="survey-list"),
    path("surveys/<int:survey_id>/", api.SurveyDetailApi.as_view(), name="survey-detail"),
    path("surveys/<int:survey_id>/questions/", api.SurveyQuestionsApi.as_view(), name="survey-questions"),
    path("surveys/<int:survey_id>/link/", api.SurveyLinkApi.as_view(), name="survey-link"),
    path("surveys/<int:survey_id>/responses/", api.SurveyResponseSubmitApi.as_view(), name="survey-response-submit"),
    path("surveys/<int:survey_id>/results/", api.SurveyResultsApi.as_view(), name="survey-results"),
    path("surveys/<int:survey_id>/responses.csv", api.SurveyResponsesCsvApi.as_view(), name="survey-responses-csv"),
]
