"""Start Debian's ``docker-registry`` and push images to it (and to moto ECR) without docker.

Used by the feed tests and by ``tests/bench/feed_versions.py``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import requests

MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
CONFIG_TYPE = "application/vnd.docker.container.image.v1+json"
LAYER_TYPE = "application/vnd.docker.image.rootfs.diff.tar.gzip"


class RegistryBinaryMissing(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RunningRegistry:
    url: str
    process: subprocess.Popen
    username: str = ""
    password: str = ""
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self):
        if self.username:
            self.session.auth = (self.username, self.password)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()

    # Pushing ----------------------------------------------------------------------------------

    def upload_blob(self, name: str, data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if self.session.head(f"{self.url}/v2/{name}/blobs/{digest}", timeout=5).status_code == 200:
            return digest
        resp = self.session.post(f"{self.url}/v2/{name}/blobs/uploads/", timeout=5)
        resp.raise_for_status()
        location = urljoin(self.url + "/", resp.headers["Location"])
        resp = self.session.put(
            location,
            params={"digest": digest},
            data=data,
            headers={"Content-Type": "application/octet-stream"},
            timeout=5,
        )
        resp.raise_for_status()
        return digest

    def push(self, name: str, tag: str, *, layer: bytes | None = None) -> str:
        """Push a small image under ``name:tag``; returns the manifest digest."""
        layer = layer if layer is not None else f"layer of {name}:{tag}".encode()
        config = json.dumps(
            {
                "architecture": "amd64",
                "os": "linux",
                "config": {"Labels": {"tag": tag}},
                "rootfs": {"type": "layers", "diff_ids": []},
            }
        ).encode()
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": MANIFEST_V2,
                "config": {
                    "mediaType": CONFIG_TYPE,
                    "size": len(config),
                    "digest": self.upload_blob(name, config),
                },
                "layers": [
                    {
                        "mediaType": LAYER_TYPE,
                        "size": len(layer),
                        "digest": self.upload_blob(name, layer),
                    }
                ],
            }
        ).encode()
        resp = self.session.put(
            f"{self.url}/v2/{name}/manifests/{tag}",
            data=manifest,
            headers={"Content-Type": MANIFEST_V2},
            timeout=5,
        )
        resp.raise_for_status()
        return resp.headers["Docker-Content-Digest"]

    def tag_existing(self, name: str, source_tag: str, tags: list[str]) -> None:
        """Add ``tags`` to the manifest of ``source_tag`` (one PUT each, no blob uploads).

        One after another: the registry answers 500 to concurrent writes of one manifest.
        """
        resp = self.session.get(
            f"{self.url}/v2/{name}/manifests/{source_tag}",
            headers={"Accept": MANIFEST_V2},
            timeout=5,
        )
        resp.raise_for_status()
        for tag in tags:
            put = self.session.put(
                f"{self.url}/v2/{name}/manifests/{tag}",
                data=resp.content,
                headers={"Content-Type": MANIFEST_V2},
                timeout=5,
            )
            put.raise_for_status()


def start_registry(
    root: Path, *, username: str = "", password: str = "", notify_url: str = ""
) -> RunningRegistry:
    """Run ``docker-registry serve`` on a free loopback port with storage under ``root``;
    with ``notify_url``, the registry POSTs its push notifications there."""
    binary = shutil.which("docker-registry")
    if binary is None:
        raise RegistryBinaryMissing(
            "docker-registry is not installed (Debian: apt-get install docker-registry "
            "apache2-utils)"
        )
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    auth = ""
    if username:
        htpasswd = shutil.which("htpasswd")
        if htpasswd is None:
            raise RegistryBinaryMissing("htpasswd is not installed (Debian: apache2-utils)")
        line = subprocess.run(
            [htpasswd, "-Bbn", username, password], check=True, capture_output=True, text=True
        ).stdout.strip()
        (root / "htpasswd").write_text(line + "\n")
        auth = f"auth:\n  htpasswd:\n    realm: tests\n    path: {root / 'htpasswd'}\n"
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: error\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n"
        "  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n" + auth + _notifications(notify_url)
    )
    log = open(root / "registry.log", "wb")  # noqa: SIM115 - lives as long as the process
    proc = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"docker-registry exited with {proc.returncode}; see {root}")
        try:
            requests.get(f"{url}/v2/", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.05)
    else:
        proc.kill()
        raise RuntimeError(f"docker-registry did not answer on {url} within 10 s")
    return RunningRegistry(url, proc, username, password)


def _notifications(url: str) -> str:
    if not url:
        return ""
    return (
        "notifications:\n  endpoints:\n    - name: deployserver\n"
        f"      url: {url}\n      timeout: 2s\n      threshold: 5\n      backoff: 1s\n"
    )


def ecr_manifest(seed: str) -> str:
    """An image manifest whose digest (moto derives it from the layers) is unique to ``seed``."""
    layer = "sha256:" + hashlib.sha256(seed.encode()).hexdigest()
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST_V2,
            "config": {"mediaType": CONFIG_TYPE, "size": 100, "digest": layer},
            "layers": [{"mediaType": LAYER_TYPE, "size": 1000 + len(seed), "digest": layer}],
        }
    )
