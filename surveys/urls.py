from django.urls import path

from surveys.views import builder, pages, public

app_name = "surveys"
urlpatterns = [
    # Public, no login; first, as they take the most requests.
    path("r/<str:token>/", public.respond, name="respond"),
    path("r/<str:token>/thanks/", public.respond_thanks, name="respond-thanks"),
    path("a/<str:public_token>/", public.respond_anonymous, name="respond-anonymous"),
    path("a/<str:public_token>/thanks/", public.respond_anonymous_thanks, name="respond-anonymous-thanks"),
    path("", pages.index, name="index"),
    path("<int:survey_id>/", pages.detail, name="detail"),
    path("<int:survey_id>/delete/", pages.delete, name="delete"),
    path("<int:survey_id>/link/", pages.personal_link, name="personal-link"),
    path("<int:survey_id>/responses.csv", pages.responses_csv, name="responses-csv"),
    path("<int:survey_id>/edit/", builder.edit, name="edit"),
    path("<int:survey_id>/questions/", builder.question_new, name="question-new"),
    path("<int:survey_id>/questions/<int:question_id>/", builder.question_save, name="question-save"),
    path("<int:survey_id>/questions/<int:question_id>/delete/", builder.question_remove, name="question-delete"),
    path(
        "<int:survey_id>/questions/<int:question_id>/move/<str:direction>/",
        builder.question_reorder,
        name="question-move",
    ),
    path("<int:survey_id>/questions/<int:question_id>/choices/", builder.choice_new, name="choice-new"),
    path(
        "<int:survey_id>/questions/<int:question_id>/choices/<int:choice_id>/delete/",
        builder.choice_remove,
        name="choice-delete",
    ),
    path(
        "<int:survey_id>/questions/<int:question_id>/choices/<int:choice_id>/move/<str:direction>/",
        builder.choice_reorder,
        name="choice-move",
    ),
]
