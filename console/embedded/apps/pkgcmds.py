"""apt-get on the Debian-based images, for the labs that type
`apt-get update && apt-get install httpie` in the siege pod: what is
installed says so, a few known packages install, the rest is not found."""

from console.embedded.apps.builtins import command

VERSIONS = {"httpie": "3.2.2-1", "curl": "7.88.1-10+deb12u5", "siege": "4.0.7-1+b1",
            "procps": "2:4.0.2-3", "vim": "2:9.0.1378-2", "net-tools": "2.10-0.1",
            "dnsutils": "1:9.18.24-1", "iputils-ping": "3:20221126-1", "wget": "1.21.3-1+b2"}
PROVIDES = {"httpie": ("http", "https"), "siege": ("siege",)}


@command("apt-get", "apt")
async def _apt(sh, argv, io):
    if sh.flavor == "busybox":
        io.err(f"sh: {argv[0]}: not found\n")
        return 127
    args = [a for a in argv[1:] if not a.startswith("-")]
    if not args:
        io.out("apt 2.6.1 (amd64)\nUsage: apt-get [options] command\n")
        return 0
    verb, pkgs = args[0], args[1:]
    if verb == "update":
        io.out("Get:1 http://deb.debian.org/debian bookworm InRelease [151 kB]\n"
               "Get:2 http://deb.debian.org/debian bookworm-updates InRelease [55.4 kB]\n"
               "Get:3 http://deb.debian.org/debian-security bookworm-security InRelease [48.0 kB]\n"
               "Get:4 http://deb.debian.org/debian bookworm/main amd64 Packages [8792 kB]\n"
               "Fetched 9046 kB in 2s (4523 kB/s)\nReading package lists... Done\n")
        return 0
    if verb != "install":
        io.err(f"E: Invalid operation {verb}\n")
        return 100
    io.out("Reading package lists... Done\nBuilding dependency tree... Done\n"
           "Reading state information... Done\n")
    tools = set(getattr(sh.app, "tools", ()))
    new = []
    for pkg in pkgs:
        if pkg not in VERSIONS:
            io.err(f"E: Unable to locate package {pkg}\n")
            return 100
        provided = PROVIDES.get(pkg, ())
        if provided and set(provided) <= tools or not provided:
            io.out(f"{pkg} is already the newest version ({VERSIONS[pkg]}).\n")
        else:
            new.append(pkg)
    if new:
        io.out("The following NEW packages will be installed:\n  " + " ".join(new) + "\n"
               f"0 upgraded, {len(new)} newly installed, 0 to remove and 0 not upgraded.\n")
        for pkg in new:
            io.out(f"Setting up {pkg} ({VERSIONS[pkg]}) ...\n")
            tools |= set(PROVIDES.get(pkg, ()))
        if sh.app is not None:
            sh.app.tools = frozenset(tools)    # until the container restarts, as a layer
    else:
        io.out("0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n")
    return 0
