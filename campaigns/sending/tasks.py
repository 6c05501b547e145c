"""Celery tasks of campaigns.sending: thin, idempotent callers of its services, taking ids."""

from celery import current_app, shared_task

from campaigns.sending import dispatch, drain, freeze, tick

# A drain that finds its next messages due later asks to be woken at most this far ahead;
# the sending tick covers anything longer.
MAX_COUNTDOWN_SECONDS = 300


@shared_task(name="campaigns.dispatch_freeze")
def dispatch_freeze(dispatch_id: int) -> None:
    dispatch.after_freeze(freeze.dispatch_freeze(dispatch_id=dispatch_id))


@shared_task(name="campaigns.dispatch_drain")
def dispatch_drain(dispatch_id: int) -> None:
    wait = drain.dispatch_drain(dispatch_id=dispatch_id).continue_in
    if wait is None:
        return
    if wait == 0:
        dispatch_drain.delay(dispatch_id)
    elif wait <= MAX_COUNTDOWN_SECONDS and not current_app.conf.task_always_eager:
        dispatch_drain.apply_async(args=[dispatch_id], countdown=wait)


@shared_task(name="campaigns.campaign_occurrence")
def campaign_occurrence(campaign_id: int) -> None:
    dispatch.campaign_occurrence(campaign_id=campaign_id)


@shared_task(name="campaigns.sending_tick")
def sending_tick() -> None:
    tick.sending_tick()
