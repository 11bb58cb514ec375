"""A WSGI application, for WSGI tools; Gaitu itself is served over ASGI (webapp/asgi.py).

ServeStatic's middleware is async only: under WSGI, Django runs it through async_to_sync.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
application = get_wsgi_application()
