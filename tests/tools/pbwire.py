"""pbwire.py — a minimal protobuf wire-format writer for Ember's test encoders (stdlib only).

Fields are written by number, so each encoder spells out the .proto it follows. Messages are
bytes; nested messages are passed as bytes too.
"""
import struct


def varint(v):
    """Unsigned LEB128; negative ints are written as 64-bit two's complement (proto int32/int64)."""
    if v < 0:
        v += 1 << 64
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(field, wt):
    return varint(field << 3 | wt)


def uint(field, v):
    """A varint field (int32, int64, uint64, bool, enum); zero is written too."""
    return key(field, 0) + varint(v)


def fixed64(field, v):
    return key(field, 1) + struct.pack("<Q", v)


def double(field, v):
    return key(field, 1) + struct.pack("<d", v)


def lenf(field, data):
    """A length-delimited field: bytes, a string or a nested message."""
    if isinstance(data, str):
        data = data.encode()
    return key(field, 2) + varint(len(data)) + data


def packed(field, values):
    return lenf(field, b"".join(varint(v) for v in values))


def packed_fixed64(field, values):
    return lenf(field, b"".join(struct.pack("<Q", v) for v in values))
