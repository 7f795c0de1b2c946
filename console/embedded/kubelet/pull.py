"""Getting a container's image onto its node: kubelet's image pull with its
policy, the node cache, serialized pulls, ErrImagePull and ImagePullBackOff, and
the back-off kubelet uses for pulls and restarts alike."""

from console.embedded.kubelet import images

BACKOFF_START, BACKOFF_MAX = 10.0, 300.0
BACKOFF_RESET = 2 * BACKOFF_MAX       # client-go's Backoff: an entry expires after 2 x max


class Backoff:
    """kubelet's per-container back-off (flowcontrol.Backoff): 10 s doubling to 5 min;
    forgotten once the container ran 10 min since the last restart."""

    def __init__(self):
        self.delay = 0.0
        self.last: float | None = None

    def wait_for(self, finished: float, now: float) -> float:
        if self.last is None or finished - self.last > BACKOFF_RESET:
            return 0.0
        return max(0.0, self.delay - (now - finished))

    def next(self, now: float) -> None:
        if self.last is None or now - self.last > BACKOFF_RESET:
            self.delay = BACKOFF_START
        else:
            self.delay = min(self.delay * 2, BACKOFF_MAX)
        self.last = now


async def ensure_image(c) -> bool:
    """Ensure the image is on the node; False if the container was stopped first.
    Re-evaluated on each round, so a new image (respec) is picked up."""
    node = c.worker.node
    while True:
        ref, image = c.ref, c.image
        policy = c.spec.get("imagePullPolicy") or (
            "Always" if images.tag_of(ref) in ("", "latest") else "IfNotPresent")
        cached = ref in node.images
        if policy == "Never" and not cached:
            msg = f'Container image "{image}" is not present with pull policy of Never'
            c.event("ErrImageNeverPull", msg, "Warning")
            c.set_waiting("ErrImageNeverPull", msg)
            if await c.pause(10.0):
                return False
            continue
        if cached and policy != "Always":
            c.event("Pulled", f'Container image "{image}" already present on machine')
            c.image_id = images.image_id(ref)
            return True
        c.event("Pulling", f'Pulling image "{image}"')
        t0 = c.clock.elapsed()
        async with node.pull_lock:            # kubelet pulls one image at a time
            waited = c.clock.elapsed() - t0
            failure = images.failure(image)
            took = 0.9 if failure else (0.5 if cached else images.pull_seconds(ref))
            if await c.pause(took):
                return False
        if c.ref != ref:
            continue                          # the pod's image changed meanwhile
        if failure is None:
            size = images.size(ref)
            node.images[ref] = size
            c.image_id = images.image_id(ref)
            c.event("Pulled", f'Successfully pulled image "{image}" in '
                       f"{images.go_duration(took)} ({images.go_duration(took + waited)} "
                       f"including waiting). Image size: {size} bytes.")
            c.pull_backoff = Backoff()
            return True
        c.event("Failed", f'Failed to pull image "{image}": {failure}', "Warning")
        c.event("Failed", "Error: ErrImagePull", "Warning")
        c.set_waiting("ErrImagePull", failure)
        c.pull_backoff.next(c.clock.elapsed())
        # the next sync finds the pull backing off: ImagePullBackOff until it expires
        if await c.pause(1.0):
            return False
        if c.ref != ref:
            continue
        msg = f'Back-off pulling image "{image}"'
        c.event("BackOff", msg)
        c.event("Failed", "Error: ImagePullBackOff", "Warning")
        c.set_waiting("ImagePullBackOff", msg)
        if await c.pause(max(0.0, c.pull_backoff.delay - 1.0)):
            return False
