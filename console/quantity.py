"""resource.Quantity, as apimachinery reads and writes it: "250m", "128Mi", "1.5",
"3192785n". Shared by the console and the embedded cluster (imports nothing)."""

_SUFFIX = {"n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
           "P": 1e15, "E": 1e18, "Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40,
           "Pi": 2 ** 50, "Ei": 2 ** 60}
_BY_LENGTH = sorted(_SUFFIX, key=len, reverse=True)


def parse(value) -> float:
    """A quantity as a number of base units (cores, bytes); None -> 0.
    Raises ValueError when it is not a quantity."""
    if value is None:
        return 0.0
    if isinstance(value, bool):
        raise ValueError(f"not a quantity: {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    for suffix in _BY_LENGTH:
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * _SUFFIX[suffix]
    return float(text)


def milli(value) -> int:
    """Quantity.MilliValue(): rounded up, as apimachinery rounds."""
    v = parse(value) * 1000
    n = int(v)
    return n + 1 if v > n + 1e-9 else n


def cpu(nanocores: int) -> str:
    """Canonical DecimalSI form of an amount given in billionths of the unit, as
    metrics-server serialises CPU ("3192785n", "25m", "2", "3k")."""
    n = int(nanocores)
    if n == 0:
        return "0"
    for scale, suffix in ((10 ** 18, "G"), (10 ** 15, "M"), (10 ** 12, "k"), (10 ** 9, ""),
                          (10 ** 6, "m"), (10 ** 3, "u")):
        if n % scale == 0:
            return f"{n // scale}{suffix}"
    return f"{n}n"


def from_milli(milli: int) -> str:
    """resource.NewMilliQuantity(milli, DecimalSI).String(): "2304m", "1", "52428800"."""
    return cpu(int(milli) * 10 ** 6)


def memory(nbytes: int) -> str:
    """Canonical BinarySI form of a byte count ("294912Ki", "288Mi", "0")."""
    n, units = int(nbytes), ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")
    i = 0
    while n and n % 1024 == 0 and i < len(units) - 1:
        n //= 1024
        i += 1
    return f"{n}{units[i]}"
