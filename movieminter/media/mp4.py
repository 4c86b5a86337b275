"""A small, read-only ISO-BMFF (MP4) reader: just the boxes validation and HLS need.

Why not `ffprobe`: imageio-ffmpeg ships no ffprobe, and `ffmpeg -i` prints a
human-readable summary whose format changes between releases and which has no
frame count, no IDR flag and no byte layout. Reading the boxes is exact, needs
no decoding, and touches only headers (the `mdat` payload is skipped), so
validating 1,000 segments before a stitch costs milliseconds each.

Handles both layouts ffmpeg writes: regular (`moov` with full sample tables)
and fragmented (`moov` + `moof`/`mdat` pairs, what segments use).
"""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


class Mp4FormatError(ValueError):
    """The file is not an MP4 this reader understands."""


@dataclasses.dataclass
class Box:
    type: str
    offset: int  # file position of the box header
    size: int  # whole box, header included
    header: int  # header length (8, or 16 for 64-bit sizes)

    @property
    def end(self) -> int:
        return self.offset + self.size

    @property
    def body(self) -> int:
        return self.offset + self.header


@dataclasses.dataclass
class Track:
    track_id: int = 0
    handler: str = ""  # "vide" | "soun" | ...
    timescale: int = 0
    codec: str = ""  # sample entry fourcc: avc1, mp4a, ...
    width: int = 0
    height: int = 0
    avcc: bytes = b""  # AVCDecoderConfigurationRecord
    sample_rate: int = 0
    channels: int = 0
    audio_object_type: int = 0  # from the AudioSpecificConfig (2 = AAC-LC)
    object_type_indication: int = 0  # from esds (0x40 = MPEG-4 audio)
    durations: list[int] = dataclasses.field(default_factory=list)
    sizes: list[int] = dataclasses.field(default_factory=list)
    sync: list[bool] = dataclasses.field(default_factory=list)
    first_sample_offset: int | None = None
    edits: list[tuple[int, int]] = dataclasses.field(default_factory=list)  # (segment_duration, media_time)

    @property
    def sample_count(self) -> int:
        return len(self.durations)

    @property
    def duration_ticks(self) -> int:
        return sum(self.durations)

    @property
    def duration(self) -> float:
        return self.duration_ticks / self.timescale if self.timescale else 0.0


@dataclasses.dataclass
class Mp4Info:
    size: int
    major_brand: str
    top: list[Box]
    tracks: list[Track]
    fragmented: bool

    def track(self, handler: str) -> Track | None:
        return next((t for t in self.tracks if t.handler == handler), None)

    @property
    def init_range(self) -> tuple[int, int]:
        """(offset, length) of ftyp+moov: the HLS initialization section."""
        moov = next(b for b in self.top if b.type == "moov")
        return 0, moov.end

    @property
    def media_range(self) -> tuple[int, int]:
        """(offset, length) from the first moof to the end of the last mdat."""
        frags = [b for b in self.top if b.type in ("moof", "mdat", "styp", "sidx")]
        if not frags:
            raise Mp4FormatError("no movie fragments (moof/mdat): not a fragmented MP4")
        start = min(b.offset for b in frags if b.type == "moof")
        end = max(b.end for b in frags if b.type == "mdat")
        return start, end - start


def _top_boxes(f: BinaryIO, size: int) -> Iterator[Box]:
    """Top-level boxes: one small read per box, payloads (mdat) are skipped."""
    pos = 0
    while pos + 8 <= size:
        f.seek(pos)
        head = f.read(16)
        box = _box_at(head, 0, size - pos, pos)
        yield box
        pos += box.size


def _box_at(buf: bytes, pos: int, end: int, file_offset: int) -> Box:
    size, typ = struct.unpack_from(">I4s", buf, pos)
    header = 8
    if size == 1:
        size = struct.unpack_from(">Q", buf, pos + 8)[0]
        header = 16
    elif size == 0:  # box extends to the end of its parent (or the file)
        size = end - pos
    if size < header or pos + size > end:
        raise Mp4FormatError(f"corrupt box {typ!r} at byte {file_offset} (size {size}, only {end - pos} bytes left)")
    return Box(typ.decode("latin-1"), file_offset, size, header)


class _Buf:
    """The bytes of one top-level box (moov, moof), addressed by file offset: children
    are parsed in memory, without a seek per box."""

    def __init__(self, f: BinaryIO, box: Box):
        f.seek(box.offset)
        self.data, self.base = f.read(box.size), box.offset

    def boxes(self, parent: Box, skip: int = 0) -> Iterator[Box]:
        pos, end = parent.body - self.base + skip, parent.end - self.base
        while pos + 8 <= end:
            box = _box_at(self.data, pos, end, self.base + pos)
            yield box
            pos += box.size

    def read(self, box: Box) -> bytes:
        return self.data[box.body - self.base : box.end - self.base]

    def children(self, box: Box, skip: int = 0) -> dict[str, list[Box]]:
        out: dict[str, list[Box]] = {}
        for child in self.boxes(box, skip):
            out.setdefault(child.type, []).append(child)
        return out

    def first(self, box: Box, *path: str) -> Box | None:
        for name in path:
            found = self.children(box).get(name)
            if not found:
                return None
            box = found[0]
        return box


def read_mp4(path: str | Path) -> Mp4Info:
    path = Path(path)
    size = path.stat().st_size
    with path.open("rb") as fh:
        top = list(_top_boxes(fh, size))
        if not top or top[0].type != "ftyp":
            raise Mp4FormatError(f"{path.name} does not start with an ftyp box: not an MP4 file")
        major = _Buf(fh, top[0]).read(top[0])[:4].decode("latin-1")
        moov = next((b for b in top if b.type == "moov"), None)
        if moov is None:
            raise Mp4FormatError(f"{path.name} has no moov box (incomplete or not an MP4)")
        f = _Buf(fh, moov)
        tracks = [_parse_trak(f, t) for t in f.children(moov).get("trak", [])]
        by_id = {t.track_id: t for t in tracks}
        trex = {}
        mvex = f.first(moov, "mvex")
        if mvex:
            for b in f.children(mvex).get("trex", []):
                _, tid, _sdi, dur, sz, flags = struct.unpack(">IIIIII", f.read(b)[:24])
                trex[tid] = (dur, sz, flags)
        moofs = [b for b in top if b.type == "moof"]
        for moof in moofs:
            _parse_moof(_Buf(fh, moof), moof, by_id, trex)
        return Mp4Info(size, major, top, tracks, bool(moofs))


def _parse_trak(f: _Buf, trak: Box) -> Track:
    t = Track()
    kids = f.children(trak)
    if "tkhd" in kids:
        data = f.read(kids["tkhd"][0])
        t.track_id = struct.unpack(">I", data[12:16] if data[0] == 0 else data[20:24])[0]
    if "edts" in kids:
        elst = f.first(kids["edts"][0], "elst")
        if elst:
            data = f.read(elst)
            version, count = data[0], struct.unpack(">I", data[4:8])[0]
            fmt, step = (">Qq", 20) if version == 1 else (">Ii", 12)
            for i in range(count):
                t.edits.append(struct.unpack(fmt, data[8 + i * step : 8 + i * step + (16 if version == 1 else 8)]))
    mdia = kids.get("mdia", [None])[0]
    if mdia is None:
        return t
    mk = f.children(mdia)
    data = f.read(mk["mdhd"][0])
    t.timescale = struct.unpack(">I", data[12:16] if data[0] == 0 else data[20:24])[0]
    t.handler = f.read(mk["hdlr"][0])[8:12].decode("latin-1")
    stbl = f.first(mdia, "minf", "stbl")
    if stbl is None:
        return t
    sk = f.children(stbl)
    _parse_stsd(f, sk["stsd"][0], t)
    if "stts" in sk:
        data = f.read(sk["stts"][0])
        for i in range(struct.unpack(">I", data[4:8])[0]):
            count, delta = struct.unpack(">II", data[8 + 8 * i : 16 + 8 * i])
            t.durations.extend([delta] * count)
    if "stsz" in sk:
        data = f.read(sk["stsz"][0])
        fixed, count = struct.unpack(">II", data[4:12])
        t.sizes = [fixed] * count if fixed else list(struct.unpack(f">{count}I", data[12 : 12 + 4 * count]))
    if t.durations:  # regular layout: samples are listed in the moov
        if "stss" in sk:
            data = f.read(sk["stss"][0])
            n = struct.unpack(">I", data[4:8])[0]
            keys = set(struct.unpack(f">{n}I", data[8 : 8 + 4 * n]))
            t.sync = [(i + 1) in keys for i in range(len(t.durations))]
        else:
            t.sync = [True] * len(t.durations)
        for name, fmt in (("stco", ">I"), ("co64", ">Q")):
            if name in sk:
                data = f.read(sk[name][0])
                if struct.unpack(">I", data[4:8])[0]:
                    t.first_sample_offset = struct.unpack(fmt, data[8 : 8 + struct.calcsize(fmt)])[0]
    return t


def _parse_stsd(f: _Buf, stsd: Box, t: Track) -> None:
    entries = list(f.boxes(stsd, 8))
    if not entries:
        return
    entry = entries[0]
    t.codec = entry.type
    data = f.read(entry)
    if t.handler == "vide":
        t.width, t.height = struct.unpack(">HH", data[24:28])
        for child in f.boxes(entry, 78):
            if child.type == "avcC":
                t.avcc = f.read(child)
    elif t.handler == "soun":
        t.channels = struct.unpack(">H", data[16:18])[0]
        t.sample_rate = struct.unpack(">I", data[24:28])[0] >> 16
        for child in f.boxes(entry, 28):
            if child.type == "esds":
                _parse_esds(f.read(child)[4:], t)


def _parse_esds(data: bytes, t: Track) -> None:
    """Walk the MPEG-4 descriptors for the object type and the AudioSpecificConfig."""
    pos = 0

    def descriptor(pos: int) -> tuple[int, int, int]:
        tag = data[pos]
        pos += 1
        length = 0
        for _ in range(4):
            byte = data[pos]
            pos += 1
            length = (length << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        return tag, pos, length

    while pos < len(data):
        tag, body, length = descriptor(pos)
        if tag == 0x03:  # ES_Descriptor: ES_ID(2) + flags(1), then sub-descriptors
            flags = data[body + 2]
            pos = (
                body
                + 3
                + (2 if flags & 0x80 else 0)
                + (1 + data[body + 3] if flags & 0x40 else 0)
                + (2 if flags & 0x20 else 0)
            )
            continue
        if tag == 0x04:  # DecoderConfigDescriptor: objectTypeIndication, ..., then DecoderSpecificInfo
            t.object_type_indication = data[body]
            pos = body + 13
            continue
        if tag == 0x05 and length:  # AudioSpecificConfig: first 5 bits = audio object type
            t.audio_object_type = data[body] >> 3
        pos = body + length


# Track fragment header (tfhd) and run (trun) flags, ISO/IEC 14496-12 8.8.7 and 8.8.8.
TFHD_BASE_DATA_OFFSET = 0x1
TFHD_SAMPLE_DESCRIPTION_INDEX = 0x2
TFHD_DEFAULT_SAMPLE_DURATION = 0x8
TFHD_DEFAULT_SAMPLE_SIZE = 0x10
TFHD_DEFAULT_SAMPLE_FLAGS = 0x20
TRUN_DATA_OFFSET = 0x1
TRUN_FIRST_SAMPLE_FLAGS = 0x4
TRUN_SAMPLE_DURATION = 0x100
TRUN_SAMPLE_SIZE = 0x200
TRUN_SAMPLE_FLAGS = 0x400
TRUN_SAMPLE_COMPOSITION_TIME_OFFSET = 0x800
SAMPLE_IS_NON_SYNC = 0x10000  # in a sample's flags


def _parse_moof(f: _Buf, moof: Box, tracks: dict[int, Track], trex: dict[int, tuple[int, int, int]]) -> None:
    for traf in f.children(moof).get("traf", []):
        kids = f.children(traf)
        tfhd = f.read(kids["tfhd"][0])
        tid = struct.unpack(">I", tfhd[4:8])[0]
        track = tracks.get(tid)
        if track is None:
            continue
        base, defaults = _parse_tfhd(tfhd, moof.offset, trex.get(tid, (0, 0, 0)))
        for trun_box in kids.get("trun", []):
            _parse_trun(f.read(trun_box), track, base, defaults)


def _parse_tfhd(tfhd: bytes, moof_offset: int, defaults: tuple[int, int, int]) -> tuple[int, tuple[int, int, int]]:
    """(base data offset, (default duration, size, flags)) of a track fragment."""
    flags = int.from_bytes(tfhd[1:4], "big")
    dur, size, sflags = defaults
    pos = 8
    base = moof_offset  # default-base-is-moof (what ffmpeg writes with default_base_moof)
    if flags & TFHD_BASE_DATA_OFFSET:
        base = struct.unpack(">Q", tfhd[pos : pos + 8])[0]
        pos += 8
    if flags & TFHD_SAMPLE_DESCRIPTION_INDEX:
        pos += 4
    if flags & TFHD_DEFAULT_SAMPLE_DURATION:
        dur = struct.unpack(">I", tfhd[pos : pos + 4])[0]
        pos += 4
    if flags & TFHD_DEFAULT_SAMPLE_SIZE:
        size = struct.unpack(">I", tfhd[pos : pos + 4])[0]
        pos += 4
    if flags & TFHD_DEFAULT_SAMPLE_FLAGS:
        sflags = struct.unpack(">I", tfhd[pos : pos + 4])[0]
    return base, (dur, size, sflags)


def _parse_trun(trun: bytes, track: Track, base: int, defaults: tuple[int, int, int]) -> None:
    """Append a track run's samples (duration, size, sync) to `track`."""
    tflags = int.from_bytes(trun[1:4], "big")
    count = struct.unpack(">I", trun[4:8])[0]
    pos = 8
    data_offset = 0
    if tflags & TRUN_DATA_OFFSET:
        data_offset = struct.unpack(">i", trun[pos : pos + 4])[0]
        pos += 4
    first_flags = None
    if tflags & TRUN_FIRST_SAMPLE_FLAGS:
        first_flags = struct.unpack(">I", trun[pos : pos + 4])[0]
        pos += 4
    if track.first_sample_offset is None and count:
        track.first_sample_offset = base + data_offset
    for i in range(count):
        d, s, fl = defaults
        if tflags & TRUN_SAMPLE_DURATION:
            d = struct.unpack(">I", trun[pos : pos + 4])[0]
            pos += 4
        if tflags & TRUN_SAMPLE_SIZE:
            s = struct.unpack(">I", trun[pos : pos + 4])[0]
            pos += 4
        if tflags & TRUN_SAMPLE_FLAGS:
            fl = struct.unpack(">I", trun[pos : pos + 4])[0]
            pos += 4
        if tflags & TRUN_SAMPLE_COMPOSITION_TIME_OFFSET:
            pos += 4
        if i == 0 and first_flags is not None:
            fl = first_flags
        track.durations.append(d)
        track.sizes.append(s)
        track.sync.append(not fl & SAMPLE_IS_NON_SYNC)


def read_sample(path: str | Path, track: Track, index: int = 0) -> bytes:
    """Bytes of a track's sample; only the first sample is addressable cheaply (what checks need)."""
    if index != 0 or track.first_sample_offset is None:
        raise Mp4FormatError("only the first sample can be read")
    with Path(path).open("rb") as f:
        f.seek(track.first_sample_offset)
        return f.read(track.sizes[0])


# --- H.264 parameter sets -------------------------------------------------


@dataclasses.dataclass
class AvcConfig:
    profile_idc: int
    level_idc: int
    nal_length_size: int
    sps: list[bytes]
    pps: list[bytes]
    chroma_format_idc: int = 1
    bit_depth_luma: int = 8
    bit_depth_chroma: int = 8


def parse_avcc(avcc: bytes) -> AvcConfig:
    if len(avcc) < 7 or avcc[0] != 1:
        raise Mp4FormatError("invalid avcC (AVCDecoderConfigurationRecord)")
    nal_length_size = (avcc[4] & 0x3) + 1
    pos = 5
    sps: list[bytes] = []
    pps: list[bytes] = []
    for target, count_mask in ((sps, 0x1F), (pps, 0xFF)):
        count = avcc[pos] & count_mask
        pos += 1
        for _ in range(count):
            n = struct.unpack(">H", avcc[pos : pos + 2])[0]
            target.append(avcc[pos + 2 : pos + 2 + n])
            pos += 2 + n
    if not sps:
        raise Mp4FormatError("avcC holds no SPS")
    cfg = AvcConfig(sps[0][1], sps[0][3], nal_length_size, sps, pps)
    _parse_sps(sps[0], cfg)
    return cfg


class _Bits:
    def __init__(self, data: bytes):
        # Drop emulation-prevention bytes (00 00 03 -> 00 00).
        out, zeros = bytearray(), 0
        for b in data:
            if zeros >= 2 and b == 3:
                zeros = 0
                continue
            out.append(b)
            zeros = zeros + 1 if b == 0 else 0
        self.data, self.pos = bytes(out), 0

    def bit(self) -> int:
        byte = self.data[self.pos >> 3]
        self.pos += 1
        return (byte >> (7 - ((self.pos - 1) & 7))) & 1

    def bits(self, n: int) -> int:
        v = 0
        for _ in range(n):
            v = (v << 1) | self.bit()
        return v

    def ue(self) -> int:
        zeros = 0
        while self.bit() == 0:
            zeros += 1
        return (1 << zeros) - 1 + self.bits(zeros)


HIGH_PROFILES = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}


def _parse_sps(sps: bytes, cfg: AvcConfig) -> None:
    r = _Bits(sps[1:])  # skip the NAL header
    r.bits(24)  # profile_idc, constraint flags, level_idc
    r.ue()  # seq_parameter_set_id
    if cfg.profile_idc in HIGH_PROFILES:
        cfg.chroma_format_idc = r.ue()
        if cfg.chroma_format_idc == 3:
            r.bit()
        cfg.bit_depth_luma = r.ue() + 8
        cfg.bit_depth_chroma = r.ue() + 8


def nal_types(sample: bytes, nal_length_size: int) -> list[int]:
    """nal_unit_type of every NAL unit in a length-prefixed H.264 sample."""
    types, pos = [], 0
    while pos + nal_length_size <= len(sample):
        n = int.from_bytes(sample[pos : pos + nal_length_size], "big")
        pos += nal_length_size
        if n == 0 or pos + n > len(sample):
            break
        types.append(sample[pos] & 0x1F)
        pos += n
    return types
