"""Runs inside the init task of geostack's GeoNode image (`python -` in the container), after
the migrations; it is not part of the Pulumi program, which sends it as text.

What geonode-project's `invoke fixtures`, `prepare` and `updateadmin` do on a first start,
made repeatable, so every rollout applies the current config.
"""
import os
from urllib.parse import urlsplit

import django

django.setup()

from django.conf import settings  # noqa: E402 (Django must be set up first)
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.sites.models import Site  # noqa: E402
from django.core.management import call_command  # noqa: E402
from oauth2_provider.models import get_application_model  # noqa: E402

from geonode.base.models import TopicCategory  # noqa: E402
from geonode.upload.models import UploadSizeLimit  # noqa: E402

# The admin: created on the first run; its e-mail and password follow the config on every run.
admin, _ = get_user_model().objects.get_or_create(username=os.environ["ADMIN_USERNAME"])
admin.email = os.environ["ADMIN_EMAIL"]
admin.is_staff = admin.is_superuser = admin.is_active = True
admin.set_password(os.environ["ADMIN_PASSWORD"])
admin.save()

# The domain GeoNode puts in e-mails and absolute links (Django's default is example.com).
host = urlsplit(os.environ["SITEURL"]).netloc
Site.objects.update_or_create(id=settings.SITE_ID, defaults={"domain": host, "name": host})

# GeoServer's OAuth2 client. At login GeoNode issues the user a token for GeoServer through
# this application, and on the next request logs out anyone without one: without it nobody
# stays signed in. A changed client ID or secret applies on the next rollout.
get_application_model().objects.update_or_create(
    name=settings.OAUTH2_DEFAULT_BACKEND_CLIENT_NAME,
    defaults={
        "client_id": os.environ["OAUTH2_CLIENT_ID"],
        "client_secret": os.environ["OAUTH2_CLIENT_SECRET"],
        "user": admin,
        "client_type": "confidential",
        "authorization_grant_type": "authorization-code",
        "skip_authorization": True,
        "redirect_uris": "\n".join(dict.fromkeys(
            [os.environ["GEOSERVER_LOCATION"], os.environ["GEOSERVER_PUBLIC_LOCATION"]])),
    },
)

# GeoNode copies DEFAULT_MAX_UPLOAD_SIZE (geonodeUploadSize) into its database once, in a
# migration, and checks uploads against those rows: without this a changed geonodeUploadSize
# would only move nginx's limit. The config is the source of truth on every rollout.
UPLOAD_LIMITS = ("dataset_upload_size", "document_upload_size", "asset_upload_size")
for slug in UPLOAD_LIMITS:
    UploadSizeLimit.objects.update_or_create(slug=slug, defaults={"max_size": settings.DEFAULT_MAX_UPLOAD_SIZE})

# Categories, licences, regions and the other lists metadata forms offer: loaded on the first
# run only, so an administrator's later edits stay.
if not TopicCategory.objects.exists():
    call_command("loaddata", "initial_data")

print(f"geostack: admin {admin.username}, site {host}, GeoServer's OAuth2 client and upload limits "
      f"({settings.DEFAULT_MAX_UPLOAD_SIZE} bytes) are set up")
