"""Small, valid safetensors files standing in for real checkpoints and LoRAs.

The A1111 and Civitai doubles serve these, and the example manifest pins their
sha256, so model readiness (hash match, download, verify) runs for real on
files that are byte-for-byte reproducible on every machine.
"""

from __future__ import annotations

import hashlib
import json
import struct

# name -> (kind, size of the tensor payload in bytes)
FAKE_MODELS = {
    "dreamshaper_8": ("checkpoint", 1_048_576),
    "ghibli_style_v2": ("lora", 131_072),
    "film_grain_35mm": ("lora", 65_536),
}


def _payload(name: str, size: int) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{name}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def safetensors_bytes(name: str, fmt: str = "safetensors") -> bytes:
    """The file for `name`. fmt="pickletensor" gives a pickle-style .ckpt stand-in."""
    kind, size = FAKE_MODELS[name]
    data = _payload(name, size)
    if fmt == "pickletensor":
        # Starts with the pickle protocol-2 opcode like torch.save zips do not, but
        # enough for format sniffing; never loaded.
        return b"\x80\x02" + data
    header = {
        "__metadata__": {"format": "pt", "movieminter_fake": name, "kind": kind},
        "weight": {"dtype": "F16", "shape": [size // 2], "data_offsets": [0, size]},
    }
    raw = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    raw += b" " * (-len(raw) % 8)  # safetensors pads the header to 8 bytes
    return struct.pack("<Q", len(raw)) + raw + data


def lora_with_modelspec_bytes(name: str, size: int = 4096) -> bytes:
    """A LoRA-shaped safetensors file whose metadata carries ModelSpec's
    modelspec.hash_sha256 as trainers write it (sha256 of the tensor bytes,
    header excluded): a hash that is never the file's own sha256."""
    data = _payload(name, size)
    header = {
        "__metadata__": {
            "modelspec.sai_model_spec": "1.0.0",
            "modelspec.architecture": "stable-diffusion-v1/lora",
            "modelspec.title": name,
            "ss_network_module": "networks.lora",
            "modelspec.hash_sha256": "0x" + hashlib.sha256(data).hexdigest(),
        },
        "lora_unet_input_blocks_1_1_proj_in.lora_down.weight": {
            "dtype": "F32",
            "shape": [size // 4],
            "data_offsets": [0, size],
        },
    }
    raw = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + data


def sha256_of(name: str, fmt: str = "safetensors") -> str:
    return hashlib.sha256(safetensors_bytes(name, fmt)).hexdigest()


if __name__ == "__main__":  # print the hashes for examples/
    for n in FAKE_MODELS:
        h = sha256_of(n)
        print(n, h, h[:10].upper())
