import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
application = get_wsgi_application()

if settings.GC_FREEZE:
    from shop.memory import freeze_after_first_request

    freeze_after_first_request()
