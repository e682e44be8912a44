"""Helpers for the attestation tests: the event's policy, logins, documents."""
import io
from datetime import date

from eventreg.attestations.service import get_policy
from eventreg.auth.service import create_or_update_user
from eventreg.extensions import db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def set_policy(event, **values):
    """Change the demo event's policy (seeded with the DOMAIN.md defaults) and commit."""
    policy = get_policy(event)
    for name, value in values.items():
        setattr(policy, name, value)
    db.session.commit()
    return policy


def login(client, event, role, email=None):
    email = email or f"{role}@example.kz"
    user, _ = create_or_update_user(email, f"{role} password 1", role, event)
    response = client.post("/login", data={"email": email, "password": f"{role} password 1"})
    assert response.status_code == 303
    return user


def logout(client):
    client.post("/logout")


def upload(client, event, registration, content=PDF, filename="certificate.pdf", kind="vaccination_full",
           taken_on=None, **extra):
    data = {"kind": kind, "taken_on": (taken_on or date.today()).isoformat(),
            "document": (io.BytesIO(content), filename), **extra}
    return client.post(f"/events/{event.slug}/p/{registration.secret}/evidence", data=data,
                       content_type="multipart/form-data")


def stored_files(app):
    """Every file in the evidence folder, temporary ones included."""
    from pathlib import Path

    folder = Path(app.instance_path) / "evidence"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []
