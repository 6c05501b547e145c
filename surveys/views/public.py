"""The public response pages: no login, phone-sized, plain HTML forms (no JavaScript).

``r/<token>/`` is a customer's personalised link (signed survey + customer ids: a changed
character is a 404); ``a/<public_token>/`` the anonymous link, rate limited per address and
made idempotent by a signed one-time nonce in the form. Both answer in the language asked
for (``?lang=``), else the customer's (``attributes["language"]``), else the browser's.
"""

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from surveys.definitions import QuestionDefinition, SurveyDefinition, survey_definition, survey_definition_at
from surveys.errors import AnswersInvalid, SurveyError, SurveyErrorCode
from surveys.links import nonce_new, nonce_read, survey_token_read
from surveys.models import Answer, QuestionKind, ResponseChannel, SurveyStatus
from surveys.ratelimit import anonymous_post_allowed
from surveys.selectors import Respondent, survey_respondent
from surveys.services import response_submit

LANGUAGES = ("en", "zh-hans")
NPS_SCALE = range(0, 11)
CSAT_SCALE = range(1, 6)


def _language(request: HttpRequest, preferred: str = "") -> str:
    """The language asked for, else the customer's (``preferred``), else the browser's."""
    asked = request.GET.get("lang") or request.POST.get("lang") or ""
    if asked in LANGUAGES:
        return asked
    preferred = preferred.lower()
    if preferred.startswith("zh"):
        return "zh-hans"
    if preferred.startswith("en"):
        return "en"
    # The browser's, negotiated here: the personal link's pages skip LocaleMiddleware (surveys.middleware).
    return "zh-hans" if translation.get_language_from_request(request).startswith("zh") else "en"


def _raw_answers(post) -> dict[int, list[str]]:
    """Form fields ``q<id>`` → question id → submitted values."""
    raw: dict[int, list[str]] = {}
    for name in post:
        if name.startswith("q") and name[1:].isdigit():
            raw[int(name[1:])] = post.getlist(name)
    return raw


def _stored_answers(response_id: int | None) -> dict[int, list[str]]:
    if response_id is None:
        return {}
    stored: dict[int, list[str]] = {}
    for answer in Answer.objects.filter(response_id=response_id).prefetch_related("choices"):
        if answer.number is not None:
            stored[answer.question_id] = [str(answer.number)]
        elif answer.text:
            stored[answer.question_id] = [answer.text]
        else:
            stored[answer.question_id] = [str(choice.pk) for choice in answer.choices.all()]
    return stored


def _form_questions(
    questions: tuple[QuestionDefinition, ...],
    language: str,
    values: dict[int, list[str]],
    errors: dict[int, SurveyError],
) -> list[dict]:
    """What the template needs per question, in the page's language."""
    shown = []
    for number, question in enumerate(questions, start=1):
        picked = values.get(question.id, [])
        if question.kind == QuestionKind.NPS:
            options = [{"value": str(score), "label": str(score)} for score in NPS_SCALE]
        elif question.kind == QuestionKind.CSAT:
            options = [{"value": str(score), "label": str(score)} for score in CSAT_SCALE]
        else:
            options = [{"value": str(choice.id), "label": choice.label(language)} for choice in question.choices]
        for option in options:
            option["checked"] = option["value"] in picked
        error = errors.get(question.id)
        shown.append(
            {
                "id": question.id,
                "number": number,
                "kind": question.kind,
                "text": question.text(language),
                "required": question.required,
                "options": options,
                "text_value": picked[0] if picked else "",
                "error": error.message if error else "",
                "error_code": error.code.value if error else "",
            }
        )
    return shown


def _message_page(
    request, survey: SurveyDefinition | None, language: str, *, title: str, message: str, status: int, testid: str
) -> HttpResponse:
    context = {
        "survey": survey,
        "survey_title": survey.title(language) if survey else "",
        "page_title": title,
        "message": message,
        "testid": testid,
        "language": language,
    }
    return render(request, "surveys/public_message.html", context, status=status)


def _closed_page(request, survey: SurveyDefinition, language: str, status: int = 200) -> HttpResponse:
    if survey.status == SurveyStatus.NOT_OPEN:
        return _message_page(
            request,
            survey,
            language,
            title=_("Not open yet"),
            status=status,
            message=str(SurveyError(SurveyErrorCode.SURVEY_NOT_OPEN).message),
            testid="survey-not-open",
        )
    return _message_page(
        request,
        survey,
        language,
        title=_("Survey closed"),
        status=status,
        message=str(SurveyError(SurveyErrorCode.SURVEY_CLOSED).message),
        testid="survey-closed",
    )


def _form_page(
    request,
    *,
    survey: SurveyDefinition,
    language: str,
    values: dict[int, list[str]],
    errors: dict[int, SurveyError],
    action: str,
    nonce: str = "",
    csrf: bool = True,
    answered_before: bool = False,
    form_error: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "survey": survey,
        "survey_title": survey.title(language),
        "intro": survey.intro(language),
        "questions": _form_questions(survey.questions, language, values, errors),
        # A form without answers or errors is the same for every customer: its questions
        # are rendered once per survey version and language (the template's fragment cache).
        "fresh_form": not values and not errors,
        "survey_id": survey.id,
        "survey_version": str(survey.version),
        "language": language,
        "languages": [("en", "English"), ("zh-hans", "中文")],
        "action": action,
        "nonce": nonce,
        "csrf": csrf,  # False: no token is made, so no CSRF cookie is set
        "answered_before": answered_before,
        "form_error": form_error,
        "error_count": len(errors),
    }
    return render(request, "surveys/respond.html", context, status=status)


BLANK_FORM_ACTION = "__precis-survey-form-action__"
CACHED_BLANK_FORMS = 512  # pages kept per process; beyond that the cache starts again
_blank_forms: dict[tuple[int, object, str], tuple[str, str]] = {}


def _blank_form_page(request, survey: SurveyDefinition, language: str, action: str) -> HttpResponse:
    """A personal link's form before the customer has answered: the same page for every
    customer of a survey version and language but for the form's action (their link), so it
    is rendered once per process and the escaped action put in. The version is the key, so
    an edited survey renders anew; nothing else on the page varies (no CSRF token, no nonce)."""
    key = (survey.id, survey.version, language)
    parts = _blank_forms.get(key)
    if parts is None:
        page = _form_page(
            request, survey=survey, language=language, values={}, errors={}, action=BLANK_FORM_ACTION, csrf=False
        )
        before, after = page.content.decode().split(BLANK_FORM_ACTION)
        if len(_blank_forms) >= CACHED_BLANK_FORMS:
            _blank_forms.clear()
        parts = _blank_forms[key] = (before, after)
    return HttpResponse(parts[0] + escape(action) + parts[1])


def _personal(token: str) -> tuple[SurveyDefinition, Respondent]:
    """The survey (cached definition) and the customer of a genuine token, else 404."""
    ids = survey_token_read(token)
    if ids is None:
        raise Http404
    respondent = survey_respondent(survey_id=ids[0], customer_id=ids[1])
    survey = survey_definition_at(survey_id=ids[0], version=respondent.survey_version) if respondent else None
    if survey is None or respondent is None:
        raise Http404
    return survey, respondent


# No CSRF check on the personal link (docs/surveys.md, "CSRF"): the signed token in the URL
# is the credential and no cookie carries authority on this page, so a forged cross-site
# post needs the token, and whoever has it can post directly anyway. Not the anonymous link.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def respond(request: HttpRequest, token: str) -> HttpResponse:
    """A customer's personalised link: answer, or change the answers given before."""
    survey, respondent = _personal(token)
    language = _language(request, respondent.language)
    action = request.path  # this view's own URL; reverse() would cost more than the rest of a GET
    with translation.override(language):
        if survey.status != SurveyStatus.OPEN:
            return _closed_page(request, survey, language, status=200 if request.method == "GET" else 409)
        answered_before = respondent.response_id is not None
        if request.method == "GET" and not answered_before:
            return _blank_form_page(request, survey, language, action)
        if request.method == "GET":
            return _form_page(
                request,
                survey=survey,
                language=language,
                values=_stored_answers(respondent.response_id),
                errors={},
                action=action,
                csrf=False,
                answered_before=answered_before,
            )
        raw = _raw_answers(request.POST)
        try:
            response_submit(
                survey=survey,
                raw=raw,
                channel=ResponseChannel.PERSONAL,
                customer_id=respondent.customer_id,
                language=language,
                sentiment_model=respondent.sentiment_model,
            )
        except AnswersInvalid as invalid:
            return _form_page(
                request,
                survey=survey,
                language=language,
                values=raw,
                errors=invalid.by_question(),
                action=action,
                csrf=False,
                answered_before=answered_before,
                status=400,
            )
        except SurveyError:
            return _closed_page(request, survey, language, status=409)
        # surveys:respond-thanks; HttpResponseRedirect, as redirect() would first try the URL as a view name
        return HttpResponseRedirect(f"{action}thanks/?lang={language}")


def respond_thanks(request: HttpRequest, token: str) -> HttpResponse:
    survey, respondent = _personal(token)
    language = _language(request, respondent.language)
    return _thanks_page(request, survey, language, again=reverse("surveys:respond", kwargs={"token": token}))


def _thanks_page(request, survey: SurveyDefinition, language: str, *, again: str = "") -> HttpResponse:
    with translation.override(language):
        context = {
            "survey": survey,
            "survey_title": survey.title(language),
            "language": language,
            "message": survey.thank_you(language) or _("Thank you for your answers."),
            "again": again,
        }
        return render(request, "surveys/thanks.html", context)


def _anonymous(public_token: str) -> SurveyDefinition:
    survey = survey_definition(public_token=public_token)
    if survey is None:
        raise Http404
    return survey


@require_http_methods(["GET", "POST"])
def respond_anonymous(request: HttpRequest, public_token: str) -> HttpResponse:
    """The survey's anonymous link: anyone may answer; each form posts once."""
    survey = _anonymous(public_token)
    language = _language(request)
    action = reverse("surveys:respond-anonymous", kwargs={"public_token": public_token})
    with translation.override(language):
        if not survey.anonymous_enabled:
            raise Http404
        if survey.status != SurveyStatus.OPEN:
            return _closed_page(request, survey, language, status=200 if request.method == "GET" else 409)
        if request.method == "GET":
            return _form_page(
                request, survey=survey, language=language, values={}, errors={}, action=action, nonce=nonce_new()
            )
        if not anonymous_post_allowed(request):
            return _message_page(
                request,
                survey,
                language,
                title=_("Too many answers"),
                status=429,
                testid="rate-limited",
                message=_("Too many answers were sent from your network in the last hour. Please try again later."),
            )
        raw = _raw_answers(request.POST)
        nonce = nonce_read(request.POST.get("nonce", ""))
        if nonce is None:
            return _form_page(
                request,
                survey=survey,
                language=language,
                values=raw,
                errors={},
                action=action,
                nonce=nonce_new(),
                status=400,
                form_error=SurveyError(SurveyErrorCode.INVALID_NONCE).message,
            )
        try:
            response_submit(survey=survey, raw=raw, channel=ResponseChannel.ANONYMOUS, nonce=nonce, language=language)
        except AnswersInvalid as invalid:
            # The same nonce again: nothing was stored, so the corrected form may use it.
            return _form_page(
                request,
                survey=survey,
                language=language,
                values=raw,
                errors=invalid.by_question(),
                action=action,
                nonce=request.POST.get("nonce", ""),
                status=400,
            )
        except SurveyError:
            return _closed_page(request, survey, language, status=409)
        return redirect(
            f"{reverse('surveys:respond-anonymous-thanks', kwargs={'public_token': public_token})}?lang={language}"
        )


def respond_anonymous_thanks(request: HttpRequest, public_token: str) -> HttpResponse:
    return _thanks_page(request, _anonymous(public_token), _language(request))
