"""Deploy layer: SPC's image built from deploy/Dockerfile and deploy/compose.yaml run in real
containers on the machine's Docker engine, with stand-ins of the official images built from
Debian's packages (scripts/images; no image registry is reachable here). Rules:

- The stack is driven as an operator drives it: a copy of deploy/ with its own .env and
  admin-tokens, `docker-compose` for every step, the story through the published ports, an
  external system publishing with its own broker user.
- One stack per module (bringing one up takes 30 to 45 s): its tests run in file order and build
  on each other's state; each module takes its stack down with its volumes at the end.
- A missing Docker engine, docker-compose or stand-in image fails under CI=true and skips
  elsewhere, naming what is missing (scripts/prepare makes them ready where it can).
"""

import os
import shutil
import subprocess

import pytest

from tests.deploy.stack import standin_images


def _missing():
    if not shutil.which("docker"):
        return "docker (apt-get install docker.io)"
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        return "a running Docker engine (scripts/prepare starts dockerd)"
    if not shutil.which("docker-compose"):
        return "docker-compose (apt-get install docker-compose)"
    for image in standin_images().values():
        if subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode != 0:
            return f"the stand-in image {image} (scripts/images builds it)"
    return None


@pytest.fixture(scope="session")
def docker_engine():
    missing = _missing()
    if missing and os.environ.get("CI") == "true":
        pytest.fail(f"missing: {missing}")
    if missing:
        pytest.skip(f"missing: {missing}")


@pytest.fixture(scope="session")
def spc_image(docker_engine):
    """SPC's image, built once per run from this tree (on the stand-in python base)."""
    from tests.deploy.stack import build_image

    seconds = build_image("spc:ci")
    print(f"\nimage spc:ci built in {seconds:.1f} s")
    return "spc:ci"
