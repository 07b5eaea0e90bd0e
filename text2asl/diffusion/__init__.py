"""Stable Diffusion + LoRA on skeleton images: datasets, training, generation and cross-attention maps.

Modules (torch/diffusers are imported only inside them, never by importing this package):
    ranges      the valid values of every setting (RANGES, CHOICES, GENERATION_RANGES), importable without the dataclasses
    config      LoraTrainingConfig and BaseTrainingConfig with presets ('sd-v1-4', 'tiny-asl', 'smoke'), TinyArchitecture, GenerationConfig; the held-out glosses
    caption     the caption format ("asl skeleton, HELLO, phase 3 of 8"): write, parse, find the gloss's tokens
    dataset     lexicon signs -> captioned keyframes in the imagefolder layout, hand boxes, the training dataset;
                a few signs' dataset and a gloss's keyframes back from one (quick runs, figures)
    tiny        the toy-sized SD pipeline with a word-level tokenizer built from captions
    objective   the denoising loss, noise streams and batch encoding shared by both trainers
    model       base models and LoRA weights through from_pretrained, with one-sentence errors
    train_base  `train-base`: pre-training the toy base (tiny-asl, shipped in tiny_asl/) from scratch (BaseTrainer)
    train_lora  `train-lora`: accelerate-driven LoRA training: accumulation, min-SNR, warm-up, exact resume, NaN stop
    runlog      what both trainers share: loss.csv, atomic folder saves, decisions all processes take together
    checkpoint  pickle-free resumable checkpoints
    generate    glosses -> keyframes -> frames at the video fps (`render_glosses`); a model's own settings (`generation_config`)
    attention   word-level cross-attention heat maps with plot_overlay(ax=), and their contrast (what one word adds)
    plots       loss curve and keyframe grids
    fixtures    the embedded alphabet as a small dataset and a random smoke-size base (tests)

A few signs as a lexicon of their own: `text2asl.gloss_to_pose.sublexicon`.
Keyframe quality (SSIM/PSNR against real keyframes, baselines, attention on the hands) is evaluation:
`text2asl.evaluation.keyframes`. The commands' options are in `text2asl.commands`.
"""
