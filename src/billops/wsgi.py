"""WSGI entry point for gunicorn or waitress: `gunicorn billops.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billops.settings")
application = get_wsgi_application()
