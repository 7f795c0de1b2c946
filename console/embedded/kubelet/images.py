"""Image pulls: sizes and pull times per image, the node cache, and the rule that
makes a pull fail on purpose.

Failure rule (documented in README): an image whose registry host is
`invalid.example` (or any host ending in `.invalid`) never resolves (DNS: no such
host); an image whose tag is `doesnotexist` (or starts with `doesnotexist`) is not
found in its registry. Both give ErrImagePull, then ImagePullBackOff.
"""

import hashlib

PULL_MB_PER_S = 40.0      # a laptop-class link to Docker Hub
SIZES = {                 # compressed sizes of the labs' images, roughly as published
    "docker.io/library/nginx": 72_080_558,
    "docker.io/library/busybox": 2_159_946,
    "docker.io/library/alpine": 3_641_715,
    "ghcr.io/acmexii/order-liveness": 205_118_771,
    "docker.io/jinyoung/order": 193_624_307,
}


def reference(image: str) -> str:
    """nginx -> docker.io/library/nginx:latest, as containerd normalises it."""
    name, digest = (image.split("@", 1) + [""])[:2]
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = f"docker.io/library/{name}"
    elif not ("." in first or ":" in first or first == "localhost"):
        name = f"docker.io/{name}"
    if digest:
        return f"{name}@{digest}"
    if ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    return name


def repo_of(ref: str) -> str:
    name = ref.split("@", 1)[0]
    return name[: name.rfind(":")] if ":" in name.rsplit("/", 1)[-1] else name


def tag_of(ref: str) -> str:
    last = ref.split("@", 1)[0].rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else ""


def digest(ref: str) -> str:
    return "sha256:" + hashlib.sha256(ref.encode()).hexdigest()


def image_id(ref: str) -> str:
    return f"{repo_of(ref)}@{digest(ref)}"


def size(ref: str) -> int:
    repo = repo_of(ref)
    if repo in SIZES:
        base = SIZES[repo]
        # other tags of the same image differ a little, as real ones do
        return base + int(hashlib.md5(ref.encode()).hexdigest()[:4], 16) * 97
    return 20_000_000 + int(hashlib.md5(ref.encode()).hexdigest()[:6], 16) % 180_000_000


def pull_seconds(ref: str) -> float:
    return 0.4 + size(ref) / (PULL_MB_PER_S * 1_000_000)


def failure(image: str) -> str | None:
    """containerd's error for an image that cannot be pulled, or None."""
    ref = reference(image)
    host = ref.split("/", 1)[0]
    path = ref.split("/", 1)[1]
    tag = tag_of(ref)
    if host == "invalid.example" or host.endswith(".invalid"):
        repo_path = path.split("@")[0].rsplit(":", 1)[0] if tag else path
        return (f'rpc error: code = Unknown desc = failed to pull and unpack image "{ref}": '
                f'failed to resolve reference "{ref}": failed to do request: Head '
                f'"https://{host}/v2/{repo_path}/manifests/{tag or "latest"}": dial tcp: lookup '
                f"{host} on 10.96.0.10:53: no such host")
    if tag.startswith("doesnotexist"):
        return (f'rpc error: code = NotFound desc = failed to pull and unpack image "{ref}": '
                f'failed to resolve reference "{ref}": {ref}: not found')
    return None


def go_duration(seconds: float) -> str:
    """Go's time.Duration String() after Truncate(time.Millisecond)."""
    ms = int(seconds * 1000)
    if ms < 1000:
        return f"{ms}ms"
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s = f"{rem / 1000:.3f}".rstrip("0").rstrip(".") + "s"
    if h:
        return f"{h}h{m}m{s}"
    if m:
        return f"{m}m{s}"
    return s
