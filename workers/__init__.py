"""Celery: the app, one thin task per pipeline step, and the follow-up dispatcher."""
