"""The ASGI application that uvicorn serves (`manage.py serve`).

Static files are answered inside it, by ServeStatic's async middleware (webapp/settings/base.py).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
application = get_asgi_application()
