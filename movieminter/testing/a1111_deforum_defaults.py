"""What Deforum (sd-webui-deforum) uses for a key the submitted settings omit.

These are the UI defaults, and they are not neutral: a settings file without
`zoom` drifts forward, without `max_frames` renders 120 frames, and so on. The
A1111 double applies them exactly like Deforum does, so a client that forgets
to export a key sees the same surprise it would see on a real install.
"""

DEFORUM_DEFAULTS: dict = {
    # DeforumArgs
    "W": 512,
    "H": 512,
    "seed": -1,
    "sampler": "DPM++ 2M",
    "scheduler": "Karras",
    "steps": 25,
    "batch_name": "Deforum_{timestring}",
    "seed_behavior": "iter",
    "seed_iter_N": 1,
    "strength": 0.85,
    # DeforumAnimArgs
    "animation_mode": "2D",
    "max_frames": 120,
    "border": "replicate",
    "diffusion_cadence": 2,
    "angle": "0: (0)",
    "zoom": "0: (1.0025+0.002*sin(1.25*3.14*t/30))",
    "translation_x": "0: (0)",
    "translation_y": "0: (0)",
    "translation_z": "0: (1.75)",
    "transform_center_x": "0: (0.5)",
    "transform_center_y": "0: (0.5)",
    "rotation_3d_x": "0: (0)",
    "rotation_3d_y": "0: (0)",
    "rotation_3d_z": "0: (0)",
    "noise_schedule": "0: (0.065)",
    "strength_schedule": "0: (0.65)",
    "cfg_scale_schedule": "0: (7)",
    "color_coherence": "LAB",
    # RootArgs / prompts
    "prompts": {
        "0": "tiny cute bunny, vibrant diffraction, highly detailed, intricate, ultra hd, sharp photo, crepuscular rays, in focus",
        "30": "anthropomorphic clean cat, surrounded by fractals, epic angle and pose, symmetrical, 3d, depth of field",
        "60": "a beautiful coconut --neg photo, realistic",
        "90": "a beautiful durian, award winning photography",
    },
    "animation_prompts_positive": "",
    "animation_prompts_negative": "nsfw, nude",
    # DeforumOutputArgs
    "fps": 15,
    "skip_video_creation": False,
}
