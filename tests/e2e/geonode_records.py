"""What a GeoNode site holds, made and read back as its users and operators do, for the upgrade
tests on Docker and on the cluster: a user the admin makes on the admin site, a document
uploaded through GeoNode's upload form, and a dataset record (a catalogue entry, as a harvester
or an operator's script makes one: publishing real data needs GeoServer, which is a stand-in here).
"""
from __future__ import annotations

import io
import json
import secrets
import zipfile
from dataclasses import dataclass
from typing import Callable

from tests.e2e.browser import Browser

# GeoNode's Django shell, run inside a Django container or pod: (python source) -> its stdout.
DjangoShell = Callable[[str], str]

DATASET_SCRIPT = """
import io
import json
from django.contrib.auth import get_user_model
from geonode.layers.models import Dataset
owner = get_user_model().objects.get(username="admin")
record = Dataset.objects.create(owner=owner, title={title!r}, name={name!r}, alternate="geonode:" + {name!r},
                                workspace="geonode", subtype="vector", abstract="made before the upgrade")
print(json.dumps({{"pk": record.pk}}))
"""


@dataclass(frozen=True)
class SiteRecords:
    user: tuple[str, str]  # username, password
    document_pk: int
    document_bytes: bytes
    dataset_pk: int
    dataset_title: str


def _multipart(fields: dict[str, str], file_field: str, file_name: str, content: bytes) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
             for key, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{file_name}"\r\n'
                 "Content-Type: text/plain\r\n\r\n".encode() + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def make_records(admin: Browser, django_shell: DjangoShell) -> SiteRecords:
    """Sign-in is the caller's: `admin` is a browser signed in as GeoNode's admin."""
    username, password = "surveyor", "Surveyor-pass-" + secrets.token_hex(4)
    form = admin.get("/en-us/admin/people/profile/add/")
    assert form.status == 200, form.status
    created = admin.submit("/en-us/admin/people/profile/add/",
                           {"username": username, "password1": password, "password2": password}, form)
    assert created.status == 302, created.text[:3000]

    content = f"Survey notes {secrets.token_hex(8)}\n".encode()
    body, content_type = _multipart({"title": "Survey notes"}, "doc_file", "survey-notes.txt", content)
    uploaded = admin.request("POST", "/documents/upload?no__redirect=true", body, headers={
        "Content-Type": content_type, "X-CSRFToken": admin.cookie("csrftoken"), "Origin": admin.base_url,
        "Referer": admin.base_url + "/"})
    assert uploaded.status == 200 and json.loads(uploaded.body)["success"], uploaded.text[:3000]
    found = json.loads(admin.get("/api/v2/documents?filter{title}=Survey%20notes").body)["documents"]
    assert len(found) == 1, found

    name = "parcels_" + secrets.token_hex(4)
    made = json.loads(django_shell(DATASET_SCRIPT.format(title="Parcels 2026", name=name)).strip().splitlines()[-1])
    return SiteRecords((username, password), int(found[0]["pk"]), content, made["pk"], "Parcels 2026")


def _document_file(body: bytes) -> bytes:
    """GeoNode sends a document's files as a zip archive; a single file may come as itself."""
    if not body.startswith(b"PK\x03\x04"):
        return body
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        (name,) = archive.namelist()
        return archive.read(name)


def check_records(admin: Browser, records: SiteRecords, new_browser: Callable[[], Browser]) -> None:
    """Everything `make_records` made is there, read back through the site; the user signs in
    with a browser of their own."""
    new_browser().sign_in(*records.user)
    document = json.loads(admin.get(f"/api/v2/documents/{records.document_pk}").body)["document"]
    assert document["title"] == "Survey notes", document
    download = admin.get(f"/documents/{records.document_pk}/download")
    assert download.status == 200, (download.status, download.body[:200])
    assert _document_file(download.body) == records.document_bytes, download.body[:300]
    dataset = json.loads(admin.get(f"/api/v2/datasets/{records.dataset_pk}").body)["dataset"]
    assert dataset["title"] == records.dataset_title, dataset
