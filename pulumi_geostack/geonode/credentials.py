"""GeoNode's credentials: from `pulumi config set --secret` when set, else generated once.

Generated values are `pulumi_random.RandomPassword` resources, so they are created on the
first `pulumi up`, kept (encrypted) in the stack's state and stay stable afterwards.
"""
from __future__ import annotations

from typing import Optional

import pulumi

from pulumi_geostack.geonode.env import Credentials
from pulumi_geostack.settings import GeoNodeSecrets


def _generated(name: str, length: int, parent: pulumi.Resource) -> pulumi.Output[str]:
    import pulumi_random as random  # only stacks that generate a credential need the provider

    password = random.RandomPassword(
        name,
        length=length,
        # Letters and digits only: these values are embedded in URLs (DATABASE_URL, BROKER_URL).
        special=False,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return password.result


def _configured_or_generated(value: Optional[pulumi.Output[str]], name: str, length: int,
                             parent: pulumi.Resource) -> pulumi.Output[str]:
    return pulumi.Output.secret(value if value is not None else _generated(name, length, parent))


def resolve_credentials(prefix: str, secrets: GeoNodeSecrets, external_database: bool,
                        parent: pulumi.Resource) -> Credentials:
    """`external_database`: no PostGIS of ours, so no superuser password to make up (config checks
    that the two users' passwords are given)."""
    def pick(value: Optional[pulumi.Output[str]], suffix: str, length: int = 32) -> pulumi.Output[str]:
        return _configured_or_generated(value, f"{prefix}-{suffix}", length, parent)

    return Credentials(
        secret_key=pick(secrets.secret_key, "secret-key", 50),
        admin_password=pick(secrets.admin_password, "admin-password", 24),
        geoserver_admin_password=pick(secrets.geoserver_admin_password, "geoserver-admin-password", 24),
        postgres_password=None if external_database else pick(secrets.postgres_password, "postgres-password"),
        database_password=pick(secrets.database_password, "database-password"),
        geodatabase_password=pick(secrets.geodatabase_password, "geodatabase-password"),
        broker_password=pick(secrets.broker_password, "broker-password"),
        oauth_client_id=pick(secrets.oauth_client_id, "oauth-client-id", 40),
        oauth_client_secret=pick(secrets.oauth_client_secret, "oauth-client-secret", 64),
        api_key=pick(secrets.api_key, "api-key", 40),
        # Optional and never generated: a made-up password would log in nowhere.
        email_password=None if secrets.email_password is None else pulumi.Output.secret(secrets.email_password),
    )
