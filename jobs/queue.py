"""Queue a Celery task by its name, so an app can start a task of an app on its right
(analytics → segments) without importing it."""

from celery import current_app


def task_send(name: str, *args, **kwargs) -> None:
    """The task modules are imported first so that the name resolves to the registered task
    (which honours eager mode in tests) rather than a bare ``send_task``."""
    current_app.loader.import_default_modules()
    current_app.signature(name, args=args, kwargs=kwargs).apply_async()


def task_run_here(name: str, *args, **kwargs) -> object:
    """Run a task by name in this process (management commands need no worker)."""
    current_app.loader.import_default_modules()
    return current_app.tasks[name].apply(args=args, kwargs=kwargs, throw=True).get()
