"""Make a tiny, random, deterministic SD-1.x checkpoint that a real A1111 loads.

No model weights can be downloaded here, so the real-A1111 tests render with
this: a ~3 M-parameter UNet/VAE/CLIP text encoder built from the same
`ldm` classes as Stable Diffusion 1.5, with `<name>.yaml` beside
`<name>.safetensors` (A1111 takes a checkpoint's config from there) and a
local CLIP tokenizer folder the config names (built from the BPE vocabulary
that `open_clip` ships, so nothing is fetched from the Hugging Face hub).

It runs inside A1111's own venv (it needs torch, transformers, safetensors and
A1111's `repositories/stable-diffusion-stability-ai`), so it imports nothing
from the `movieminter` package:

    <a1111-venv>/bin/python tiny_sd.py --webui DIR --out DIR [--seed 1234] [--name N] [--no-lora]

The same seed, torch version and code give the same bytes.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

NAME = "tiny-sd15"
# Small but shaped like SD 1.x: 4 latent channels, an 8x VAE, cross-attention
# on CLIP text states. ldm's GroupNorm wants channel counts divisible by 32.
TEXT = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 2}


def config_yaml(tokenizer_dir: Path) -> str:
    return f"""model:
  target: ldm.models.diffusion.ddpm.LatentDiffusion
  params:
    linear_start: 0.00085
    linear_end: 0.0120
    num_timesteps_cond: 1
    log_every_t: 200
    timesteps: 1000
    first_stage_key: "jpg"
    cond_stage_key: "txt"
    image_size: 64
    channels: 4
    cond_stage_trainable: false
    conditioning_key: crossattn
    monitor: val/loss_simple_ema
    scale_factor: 0.18215
    use_ema: False
    unet_config:
      target: ldm.modules.diffusionmodules.openaimodel.UNetModel
      params:
        image_size: 32
        in_channels: 4
        out_channels: 4
        model_channels: 32
        attention_resolutions: [ 2 ]
        num_res_blocks: 1
        channel_mult: [ 1, 2 ]
        num_heads: 2
        use_spatial_transformer: True
        transformer_depth: 1
        context_dim: {TEXT["hidden_size"]}
        use_checkpoint: False
        legacy: False
    first_stage_config:
      target: ldm.models.autoencoder.AutoencoderKL
      params:
        embed_dim: 4
        monitor: val/rec_loss
        ddconfig:
          double_z: true
          z_channels: 4
          resolution: 256
          in_channels: 3
          out_ch: 3
          ch: 32
          ch_mult: [ 1, 1, 1, 1 ]
          num_res_blocks: 1
          attn_resolutions: []
          dropout: 0.0
        lossconfig:
          target: torch.nn.Identity
    cond_stage_config:
      target: ldm.modules.encoders.modules.FrozenCLIPEmbedder
      params:
        version: {json.dumps(str(tokenizer_dir))}
"""


def _bytes_to_unicode() -> dict[int, str]:
    """CLIP's byte-level BPE alphabet (the same table open_clip and transformers use)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs), strict=False))


def write_tokenizer(dest: Path) -> None:
    """vocab.json + merges.txt identical in layout to openai/clip-vit-large-patch14's."""
    import open_clip  # ships bpe_simple_vocab_16e6.txt.gz

    bpe = Path(open_clip.__file__).parent / "bpe_simple_vocab_16e6.txt.gz"
    lines = gzip.open(bpe).read().decode("utf-8").split("\n")[1 : 49152 - 256 - 2 + 1]
    merges = [tuple(line.split()) for line in lines]
    vocab = list(_bytes_to_unicode().values())
    vocab += [v + "</w>" for v in vocab]
    vocab += ["".join(m) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(vocab)}), encoding="utf-8")
    (dest / "merges.txt").write_text(
        "#version: 0.2\n" + "\n".join(" ".join(m) for m in merges) + "\n", encoding="utf-8"
    )
    (dest / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "model_max_length": 77,
                "bos_token": "<|startoftext|>",
                "eos_token": "<|endoftext|>",
                "unk_token": "<|endoftext|>",
                "pad_token": "<|endoftext|>",
                "do_lower_case": True,
            }
        )
    )
    (dest / "special_tokens_map.json").write_text(
        json.dumps(
            {
                "bos_token": "<|startoftext|>",
                "eos_token": "<|endoftext|>",
                "unk_token": "<|endoftext|>",
                "pad_token": "<|endoftext|>",
            }
        )
    )
    (dest / "config.json").write_text(
        json.dumps(
            {
                "architectures": ["CLIPTextModel"],
                "model_type": "clip_text_model",
                "vocab_size": len(vocab),
                "max_position_embeddings": 77,
                "hidden_act": "quick_gelu",
                "layer_norm_eps": 1e-5,
                "bos_token_id": 49406,
                "eos_token_id": 49407,
                "pad_token_id": 49407,
                "projection_dim": TEXT["hidden_size"],
                **TEXT,
            },
            indent=1,
        )
    )


def modelspec_hash(tensors: dict) -> str:
    """ModelSpec's modelspec.hash_sha256 as kohya's sd-scripts writes it: sha256 over
    each tensor saved alone, header excluded (so never the file's own sha256)."""
    import hashlib

    from safetensors.torch import save

    h = hashlib.sha256()
    for tensor in tensors.values():
        raw = save({"tensor": tensor})
        h.update(raw[8 + int.from_bytes(raw[:8], "little") :])
    return "0x" + h.hexdigest()


def write_lora(model, path: Path, seed: int, rank: int = 4) -> None:
    """A LoRA for the tiny UNet's attention projections, named as kohya's trainer
    names them (lora_unet_<module path>), which A1111's Lora extension loads."""
    import torch
    from safetensors.torch import save_file

    gen = torch.Generator().manual_seed(seed)
    tensors = {}
    for name, module in sorted(model.model.diffusion_model.named_modules()):
        if isinstance(module, torch.nn.Linear) and ".attn" in name and name.endswith(("to_q", "to_k", "to_v")):
            key = "lora_unet_" + name.replace(".", "_")
            tensors[f"{key}.lora_down.weight"] = 0.1 * torch.randn((rank, module.in_features), generator=gen)
            tensors[f"{key}.lora_up.weight"] = 0.1 * torch.randn((module.out_features, rank), generator=gen)
            tensors[f"{key}.alpha"] = torch.tensor(float(rank))
    meta = {
        "ss_network_module": "networks.lora",
        "ss_network_dim": str(rank),
        "ss_network_alpha": str(rank),
        "modelspec.sai_model_spec": "1.0.0",
        "modelspec.architecture": "stable-diffusion-v1/lora",
        "modelspec.implementation": "diffusers",
        "modelspec.title": "tiny-lora",
        "modelspec.hash_sha256": modelspec_hash(tensors),
    }
    tmp = path.with_suffix(".tmp")
    save_file(tensors, str(tmp), metadata=meta)
    tmp.replace(path)


def build(webui: Path, out: Path, seed: int, name: str = NAME, lora: bool = True) -> Path:
    """Write <out>/<name>.safetensors and .yaml (+ the tokenizer folder, and
    tiny-lora.safetensors); returns the checkpoint."""
    sys.path[:0] = [str(webui / "repositories" / "stable-diffusion-stability-ai")]
    import ldm.modules.encoders.modules as encoders
    import torch
    from ldm.util import instantiate_from_config
    from omegaconf import OmegaConf
    from safetensors.torch import save_file
    from transformers import CLIPTextConfig, CLIPTextModel

    out.mkdir(parents=True, exist_ok=True)
    tokenizer_dir = out / f"{NAME}-clip"
    write_tokenizer(tokenizer_dir)
    yaml_text = config_yaml(tokenizer_dir.resolve())

    # The text encoder's weights live in the checkpoint, as in a real one:
    # build it from the local config instead of downloading "pretrained" weights.
    encoders.CLIPTextModel = type(
        "LocalCLIPTextModel",
        (),
        {"from_pretrained": staticmethod(lambda version, **kw: CLIPTextModel(CLIPTextConfig.from_pretrained(version)))},
    )
    torch.manual_seed(seed)
    model = instantiate_from_config(OmegaConf.create(yaml_text).model)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for pname, p in sorted(model.named_parameters()):
            if "norm" in pname or pname.endswith(("ln_1.weight", "ln_2.weight", "ln_1.bias", "ln_2.bias")):
                # Untrained LayerNorms (weight 1, bias 0) make A1111's emphasis
                # renormalisation divide ~0 by ~0 (NansException): non-zero biases.
                base = 1.0 if pname.endswith("weight") else 0.0
                p.copy_(base + 0.1 * torch.randn(p.shape, generator=gen))
            elif p.dim() > 1:
                p.copy_(torch.randn(p.shape, generator=gen) * (1.0 / max(1, p[0].numel()) ** 0.5))
            else:
                p.copy_(0.02 * torch.randn(p.shape, generator=gen))
    state = {k: v.contiguous().clone() for k, v in model.state_dict().items() if not k.startswith("model_ema.")}
    ckpt = out / f"{name}.safetensors"
    tmp = ckpt.with_suffix(".tmp")
    save_file(state, str(tmp), metadata={"format": "pt", "movieminter": f"tiny random SD-1.x, seed {seed}"})
    tmp.replace(ckpt)
    ckpt.with_suffix(".yaml").write_text(yaml_text, encoding="utf-8")
    if lora:
        write_lora(model, out / "tiny-lora.safetensors", seed + 1)
    return ckpt


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--webui", required=True, type=Path, help="the A1111 folder (for repositories/)")
    ap.add_argument("--out", required=True, type=Path, help="where the checkpoint goes (models/Stable-diffusion)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--name", default=NAME)
    ap.add_argument("--no-lora", action="store_true")
    args = ap.parse_args(argv)
    print(build(args.webui, args.out, args.seed, args.name, lora=not args.no_lora))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
