"""A real S3-compatible server for the backup tests: moto's server (PyPI), run on this host.

It listens on every address of the host, loopback included, so containers on a Docker network
and pods on the test cluster reach it at the host's own address. It checks every request's
signature against the access keys of IAM users it knows, and their policies: stricter than a
server that takes any key, so a key that never reached the backup fails the test. The first
requests, which make that user, its key and the bucket, are the only unchecked ones.
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from typing import Iterator

import boto3

from offline.loopback import answers, free_port, stop_group, wait_until

# create_user, put_user_policy, create_access_key, create_bucket: moto checks every later request.
UNCHECKED_SETUP_REQUESTS = 4
REGION = "us-east-1"


def host_address() -> str:
    """The address of this host that containers and pods route to (the default route's source)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect(("192.0.2.123", 9))  # no packet is sent: this only picks the route
        return sock.getsockname()[0]


@dataclass(frozen=True)
class S3Bucket:
    endpoint: str  # http://<host address>:<port>, as the backup reaches it
    name: str
    access_key_id: str
    secret_access_key: str

    def client(self):
        """boto3 signed in with the bucket's key, as the backup signs in."""
        return boto3.client("s3", endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id=self.access_key_id, aws_secret_access_key=self.secret_access_key)

    def keys(self) -> list[str]:
        listing = self.client().list_objects_v2(Bucket=self.name)
        return sorted(item["Key"] for item in listing.get("Contents", ()))


@contextlib.contextmanager
def s3_bucket(name: str = "geonode-backups") -> Iterator[S3Bucket]:
    """moto's server with one bucket and a user whose key may use only that bucket; stopped after."""
    port = free_port()
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(UNCHECKED_SETUP_REQUESTS)}
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "0.0.0.0", "-p", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        wait_until(lambda: answers(f"http://127.0.0.1:{port}/moto-api/") or server.poll() is not None, 60, "moto server")
        assert server.poll() is None, server.stderr.read().decode(errors="replace")
        endpoint = f"http://{host_address()}:{port}"
        setup = {"endpoint_url": endpoint, "region_name": REGION, "aws_access_key_id": "setup",
                 "aws_secret_access_key": "setup"}
        iam = boto3.client("iam", **setup)
        iam.create_user(UserName="geonode-backup")
        iam.put_user_policy(UserName="geonode-backup", PolicyName="backups", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*",
                           "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"]}]}))
        key = iam.create_access_key(UserName="geonode-backup")["AccessKey"]
        boto3.client("s3", **setup).create_bucket(Bucket=name)
        yield S3Bucket(endpoint, name, key["AccessKeyId"], key["SecretAccessKey"])
    finally:
        stop_group(server)
