"""Protocol Buffers wire format: varints, tags and the four wire types.

Only what Kubernetes bodies use (proto2, no groups, no packed encoding is ever
written by gogo for these types, but packed input is accepted on read).
"""

VARINT, I64, LEN, I32 = 0, 1, 2, 5


def read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    if pos < len(buf) and buf[pos] < 0x80:  # one-byte fast path: most keys and lengths
        return buf[pos], pos + 1
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise ValueError("varint too long")


def iter_fields(buf: bytes):
    """Yield (field_number, wire_type, value): value is an int for varint,
    fixed64 and fixed32 (raw unsigned), bytes for length-delimited."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = read_varint(buf, pos)
        number, wtype = key >> 3, key & 7
        if number == 0:
            raise ValueError("field number 0")
        if wtype == VARINT:
            value, pos = read_varint(buf, pos)
        elif wtype == LEN:
            size, pos = read_varint(buf, pos)
            if pos + size > end:
                raise ValueError(f"field {number}: length {size} runs past the end")
            value, pos = buf[pos:pos + size], pos + size
        elif wtype == I64:
            if pos + 8 > end:
                raise ValueError(f"field {number}: truncated 64-bit value")
            value, pos = int.from_bytes(buf[pos:pos + 8], "little"), pos + 8
        elif wtype == I32:
            if pos + 4 > end:
                raise ValueError(f"field {number}: truncated 32-bit value")
            value, pos = int.from_bytes(buf[pos:pos + 4], "little"), pos + 4
        else:
            raise ValueError(f"field {number}: unsupported wire type {wtype}")
        yield number, wtype, value


def signed(value: int, bits: int) -> int:
    """Two's complement view of an unsigned varint (int32/int64 fields)."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def varint(value: int) -> bytes:
    if 0 <= value < 0x80:
        return _ONE_BYTE[value]
    if value < 0:
        value += 1 << 64  # negative int32/int64 take ten bytes, as in Go
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


_ONE_BYTE = [bytes((i,)) for i in range(0x80)]


def key(number: int, wtype: int) -> bytes:
    return varint(number << 3 | wtype)


def len_field(number: int, payload: bytes) -> bytes:
    return key(number, LEN) + varint(len(payload)) + payload
