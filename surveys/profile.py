"""The customer's survey responses on the profile page (customers/profile_panels.py)."""

from typing import Any

from django.utils.translation import get_language

from customers.models import Customer
from surveys.selectors import customer_survey_responses


def customer_surveys_panel(customer: Customer) -> tuple[str, dict[str, Any]] | None:
    responses = customer_survey_responses(customer_id=customer.pk)
    if not responses:
        return None
    language = get_language() or "en"
    shown = [
        {
            "response": response,
            "survey_title": response.survey.title(language),
            "answers": [
                {
                    "question": answer.question.text(language),
                    "kind": answer.question.kind,
                    "value": answer.number
                    if answer.number is not None
                    else (answer.text or ", ".join(choice.label(language) for choice in answer.choices.all())),
                    "sentiment_label": answer.sentiment_label,
                    "sentiment_display": answer.get_sentiment_label_display(),
                }
                for answer in response.answers.all()
            ],
        }
        for response in responses
    ]
    return "surveys/partials/customer_responses.html", {"responses": shown}
