import os

from django.core.wsgi import get_wsgi_application

from certhall.config import private_process

private_process()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "certhall.settings")
application = get_wsgi_application()
