"""Environment of each GeoNode service, as pure functions: (plain values, secret values).

Modelled on geonode-project 4.4.x's .env and docker-compose.yml. Anything that holds a
credential, including URLs that embed one, goes into the secret map, which targets turn
into Kubernetes Secret references or Pulumi-secret Docker env entries.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional
from urllib.parse import quote

import pulumi

from pulumi_geostack.geonode.names import (
    ADMIN_USER,
    ASSETS_ROOT,
    DATABASE,
    DJANGO_PORT,
    GEODATABASE,
    GEOSERVER_PORT,
    MEDIA_ROOT,
    POSTGRES_DATA_DIR,
    POSTGRES_PORT,
    REDIS_PORT,
    STATIC_ROOT,
    ServiceNames,
)
from pulumi_geostack.nginx_conf import nginx_size_bytes
from pulumi_geostack.settings import GeoNodeDatabase, GeoNodeMail

Env = dict[str, str]
SecretEnv = dict[str, pulumi.Output[str]]


@dataclass(frozen=True)
class Credentials:
    """Every credential GeoNode's services share; each an Output marked secret."""

    secret_key: pulumi.Output[str]
    admin_password: pulumi.Output[str]
    geoserver_admin_password: pulumi.Output[str]
    postgres_password: Optional[pulumi.Output[str]]  # None: an existing server, not our PostGIS
    database_password: pulumi.Output[str]
    geodatabase_password: pulumi.Output[str]
    broker_password: pulumi.Output[str]
    oauth_client_id: pulumi.Output[str]
    oauth_client_secret: pulumi.Output[str]
    api_key: pulumi.Output[str]
    email_password: Optional[pulumi.Output[str]] = None  # only for an SMTP server that wants a login


@dataclass(frozen=True)
class Site:
    """Where users reach GeoNode."""

    host: str
    url: str  # with a trailing slash, as GeoNode's SITEURL wants it
    tls: bool
    upload_size: str  # nginx notation
    open_signup: bool = False  # anyone may create an account

    @property
    def origin(self) -> str:
        """scheme://host[:port], as browsers send it in the Origin header."""
        return self.url.rstrip("/")


@dataclass(frozen=True)
class DjangoOptions:
    """Choices beyond the site that shape what Django, Celery and the init task are told."""

    admin_email: str
    mail: GeoNodeMail
    database: GeoNodeDatabase
    extra_settings: str = ""  # Python for geostack_settings to run; empty: none


def database_address(names: ServiceNames, database: GeoNodeDatabase) -> tuple[str, int]:
    """Host and port of the PostgreSQL server: an existing one, else geostack's PostGIS."""
    return (database.host, database.port) if database.external else (names.database, POSTGRES_PORT)


def _database_url(names: ServiceNames, database: GeoNodeDatabase, name: str, password: pulumi.Output[str]):
    """A connection URL for one database; its user has the database's name."""
    host, port = database_address(names, database)
    # dj-database-url hands query parameters to libpq; our own PostGIS keeps libpq's default.
    query = f"?sslmode={database.ssl_mode}" if database.external else ""
    return _secret_url("postgis", name, password, host, port, f"{name}{query}")


def _secret_url(scheme: str, user: str, password: pulumi.Output[str], host: str, port: int, path: str):
    # A configured password may hold "@", "/" or ":"; dj-database-url and kombu unquote it.
    encoded = pulumi.Output.from_input(password).apply(lambda value: quote(value, safe=""))
    return pulumi.Output.secret(pulumi.Output.concat(f"{scheme}://{user}:", encoded, f"@{host}:{port}/{path}"))


def django_env(names: ServiceNames, site: Site, options: DjangoOptions, celery: bool, own_image: bool) -> Env:
    """Django, Celery and the init task (GeoNode's settings read all of these).

    `own_image`: geostack's image, whose settings module (geostack_settings) wraps GeoNode's.
    """
    geoserver_public = f"{site.url}geoserver/"
    database_host, database_port = database_address(names, options.database)
    return {
        **(_own_image_env(site, options) if own_image else _upstream_image_env()),
        "DEBUG": "False",
        "SITEURL": site.url,
        "ALLOWED_HOSTS": repr([names.django, names.nginx, site.host, "localhost"]),
        "HTTP_HOST": "" if site.tls else site.host,
        "HTTPS_HOST": site.host if site.tls else "",
        "NGINX_BASE_URL": site.origin,
        "GEONODE_LB_HOST_IP": names.django,
        "GEONODE_LB_PORT": str(DJANGO_PORT),
        "GEOSERVER_LB_HOST_IP": names.geoserver,
        "GEOSERVER_LB_PORT": str(GEOSERVER_PORT),
        "GEOSERVER_LOCATION": f"http://{names.geoserver}:{GEOSERVER_PORT}/geoserver/",
        "GEOSERVER_PUBLIC_LOCATION": geoserver_public,
        "GEOSERVER_WEB_UI_LOCATION": geoserver_public,
        "GEOSERVER_ADMIN_USER": "admin",
        "DATABASE_HOST": database_host,
        "DATABASE_PORT": str(database_port),
        "GEONODE_DATABASE": DATABASE,
        "GEONODE_DATABASE_USER": DATABASE,
        "GEONODE_GEODATABASE": GEODATABASE,
        "GEONODE_GEODATABASE_USER": GEODATABASE,
        "GEONODE_DATABASE_SCHEMA": "public",
        "GEONODE_GEODATABASE_SCHEMA": "public",
        "DEFAULT_BACKEND_DATASTORE": "datastore",
        "ASYNC_SIGNALS": "True",  # Celery over Redis, not eager tasks inside Django
        "STATIC_ROOT": STATIC_ROOT,
        "MEDIA_ROOT": MEDIA_ROOT,
        "ASSETS_ROOT": ASSETS_ROOT,
        "ADMIN_USERNAME": ADMIN_USER,
        "ADMIN_EMAIL": options.admin_email,
        "DEFAULT_MAX_UPLOAD_SIZE": str(nginx_size_bytes(site.upload_size)),
        "INVOKE_LOG_STDOUT": "true",
        "FORCE_REINIT": "false",
        "IS_CELERY": "True" if celery else "False",
        "CELERY__LOG_FILE": "/dev/stdout",
        # GeoNode 5 marks its cookies Secure unless told otherwise; over plain HTTP clients
        # would then never send them back, so the flags follow the site's scheme.
        "SESSION_COOKIE_SECURE": str(site.tls),
        "CSRF_COOKIE_SECURE": str(site.tls),
        # GeoNode lets anyone sign up by default; a site opens sign-up only when asked to.
        "ACCOUNT_OPEN_SIGNUP": str(site.open_signup),
        **_mail_env(options.mail, site),
    }


def _mail_env(mail: GeoNodeMail, site: Site) -> Env:
    """GeoNode reads the SMTP settings only with EMAIL_ENABLE; without it Django prints mail to the log."""
    if not mail.host:
        return {"EMAIL_ENABLE": "False"}
    return {
        "EMAIL_ENABLE": "True",
        "DJANGO_EMAIL_HOST": mail.host,
        "DJANGO_EMAIL_PORT": str(mail.port),
        "DJANGO_EMAIL_HOST_USER": mail.user,
        "DJANGO_EMAIL_USE_TLS": str(mail.tls),
        # Implicit TLS (port 465) excludes STARTTLS in Django; geostack offers STARTTLS only.
        "DJANGO_EMAIL_USE_SSL": "False",
        "DEFAULT_FROM_EMAIL": mail.sender or f"GeoNode <no-reply@{site.host}>",
    }


def _own_image_env(site: Site, options: DjangoOptions) -> Env:
    """What geostack's settings module reads beyond GeoNode's own settings."""
    env = {
        "DJANGO_SETTINGS_MODULE": "geostack_settings",
        # Django sees plain HTTP behind the Ingress that terminates TLS, so it would refuse every
        # form POST (the login too) from `Origin: https://...` with a CSRF 403 unless it trusts it.
        "CSRF_TRUSTED_ORIGINS": site.origin,
    }
    if options.extra_settings:
        env["GEOSTACK_EXTRA_SETTINGS"] = options.extra_settings
    return env


def _upstream_image_env() -> Env:
    """An upstream image loads GeoNode's settings as they are: no trusted origins, no extra settings."""
    return {
        "DJANGO_SETTINGS_MODULE": "geonode.settings",
        "C_FORCE_ROOT": "1",  # the upstream image runs Celery as root, which Celery refuses without it
    }


def django_secret_env(names: ServiceNames, credentials: Credentials, database: GeoNodeDatabase) -> SecretEnv:
    c = credentials
    return {
        "SECRET_KEY": c.secret_key,
        "ADMIN_PASSWORD": c.admin_password,
        "GEOSERVER_ADMIN_PASSWORD": c.geoserver_admin_password,
        "GEONODE_DATABASE_PASSWORD": c.database_password,
        "GEONODE_GEODATABASE_PASSWORD": c.geodatabase_password,
        "DATABASE_URL": _database_url(names, database, DATABASE, c.database_password),
        "GEODATABASE_URL": _database_url(names, database, GEODATABASE, c.geodatabase_password),
        # Redis's default user: no name, only the password (Redis's requirepass).
        "BROKER_URL": _secret_url("redis", "", c.broker_password, names.broker, REDIS_PORT, "0"),
        # Task results (GeoNode's settings default to redis://localhost, where nothing listens),
        # in their own Redis database.
        "CELERY_RESULT_BACKEND": _secret_url("redis", "", c.broker_password, names.broker, REDIS_PORT, "1"),
        "OAUTH2_CLIENT_ID": c.oauth_client_id,
        "OAUTH2_CLIENT_SECRET": c.oauth_client_secret,
        # Unset, GeoNode serves /api/users, /api/roles and /api/adminRole to anonymous callers.
        "OAUTH2_API_KEY": c.api_key,
        **({"DJANGO_EMAIL_HOST_PASSWORD": c.email_password} if c.email_password is not None else {}),
    }


def geoserver_env(names: ServiceNames, site: Site, heap: str, database: GeoNodeDatabase) -> Env:
    database_host, database_port = database_address(names, database)
    return {
        "SITEURL": site.url,
        "NGINX_BASE_URL": site.origin,  # GeoServer's proxy base URL
        "GEONODE_LB_HOST_IP": names.django,
        "GEONODE_LB_PORT": str(DJANGO_PORT),
        "GEOSERVER_LB_HOST_IP": names.geoserver,
        "GEOSERVER_LB_PORT": str(GEOSERVER_PORT),
        "GEOSERVER_ADMIN_USER": "admin",
        "DATABASE_HOST": database_host,
        "DATABASE_PORT": str(database_port),
        "GEONODE_GEODATABASE": GEODATABASE,
        "GEONODE_GEODATABASE_USER": GEODATABASE,
        "GEONODE_GEODATABASE_SCHEMA": "public",
        "FORCE_REINIT": "false",
        "GEOSERVER_JAVA_OPTS": " ".join([
            "-Djava.awt.headless=true", f"-Xms512m -Xmx{heap}", "-Dgwc.context.suffix=gwc",
            "-Dfile.encoding=UTF8", "-Duser.timezone=GMT", "-DALLOW_ENV_PARAMETRIZATION=true",
            "-DGEOSERVER_CSRF_DISABLED=true", f"-DPRINT_BASE_URL={site.url}geoserver/pdf",
        ]),
    }


def geoserver_secret_env(credentials: Credentials) -> SecretEnv:
    c = credentials
    return {
        "GEOSERVER_ADMIN_PASSWORD": c.geoserver_admin_password,
        "GEONODE_GEODATABASE_PASSWORD": c.geodatabase_password,
        "OAUTH2_CLIENT_ID": c.oauth_client_id,
        "OAUTH2_CLIENT_SECRET": c.oauth_client_secret,
    }


def postgis_env() -> Env:
    return {
        "POSTGRES_USER": "postgres",
        # A subdirectory: fresh block volumes carry lost+found, which initdb refuses.
        "PGDATA": f"{POSTGRES_DATA_DIR}/pgdata",
        "GEONODE_DATABASE": DATABASE,
        "GEONODE_DATABASE_USER": DATABASE,
        "GEONODE_GEODATABASE": GEODATABASE,
        "GEONODE_GEODATABASE_USER": GEODATABASE,
    }


def postgis_secret_env(credentials: Credentials) -> SecretEnv:
    c = credentials
    return {
        "POSTGRES_PASSWORD": c.postgres_password,
        "GEONODE_DATABASE_PASSWORD": c.database_password,
        "GEONODE_GEODATABASE_PASSWORD": c.geodatabase_password,
    }


def redis_secret_env(credentials: Credentials) -> SecretEnv:
    return {"REDIS_PASSWORD": credentials.broker_password}


def site_for(host: str, upload_size: str, target: str, host_port: int, tls: bool, open_signup: bool = False) -> Site:
    """The public site: on Docker the published port on the host, on Kubernetes the Ingress host."""
    if target == "docker":
        url, tls = f"http://{host}:{host_port}/", False
    else:
        url = f"{'https' if tls else 'http'}://{host}/"
    return Site(host=host, url=url, tls=tls, upload_size=upload_size, open_signup=open_signup)
