#!/usr/bin/env python3
"""PyTorch eager CUDA latency of the zoo's seven models on the GPU machine, beside abacus's own benchmark.

torchvision's resnet50/101/152, inception_v3 and vgg16/19 (random weights: no download) and a 12-layer BERT-base
encoder (nn.TransformerEncoder, d_model 768, 12 heads, FFN 3072, GELU, batch_first; input N x seq x 768, the same
shape as the zoo's bert) in fp32, eval mode, torch.inference_mode(). Each model and batch size: warm-up runs, then
timed runs, each timed with torch.cuda.synchronize() before and after (wall clock, as abacus measures); the median.
Usage: python3 pytorch-bench.py --batches 1,4,8,16,32 --seq 64 --reps 30 --out pytorch.json
"""
import argparse, json, platform, statistics, subprocess, sys, time

import torch
import torchvision


def build(name):
    m = torchvision.models
    if name == 'inception_v3':
        return m.inception_v3(weights=None, aux_logits=False, init_weights=False), (3, 299, 299)
    if name == 'bert':
        layer = torch.nn.TransformerEncoderLayer(768, 12, 3072, dropout=0.0, activation='gelu', batch_first=True)
        return torch.nn.TransformerEncoder(layer, 12, enable_nested_tensor=False), None
    return getattr(m, name)(weights=None), (3, 224, 224)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--models', default='resnet50,resnet101,resnet152,inception_v3,vgg16,vgg19,bert')
    ap.add_argument('--batches', default='1,4,8,16,32')
    ap.add_argument('--seq', type=int, default=64)
    ap.add_argument('--reps', type=int, default=30)
    ap.add_argument('--warmup', type=int, default=5)
    ap.add_argument('--out', required=True)
    a = ap.parse_args()
    torch.manual_seed(0)
    dev = torch.device('cuda')
    rows = []
    for name in a.models.split(','):
        model, shape = build(name)
        model = model.to(dev).eval()
        for b in [int(x) for x in a.batches.split(',')]:
            x = torch.randn(b, a.seq, 768, device=dev) if shape is None else torch.randn(b, *shape, device=dev)
            times = []
            with torch.inference_mode():
                for i in range(a.warmup + a.reps):
                    torch.cuda.synchronize()
                    t0 = time.perf_counter()
                    model(x)
                    torch.cuda.synchronize()
                    if i >= a.warmup:
                        times.append((time.perf_counter() - t0) * 1000)
            rows.append({'model': name, 'batch': b, 'seq': a.seq if shape is None else 0, 'ms': statistics.median(times), 'minMs': min(times), 'reps': a.reps})
            print(f'{name} b{b}: {rows[-1]["ms"]:.3f} ms', file=sys.stderr)
        del model
        torch.cuda.empty_cache()
    smi = subprocess.run(['nvidia-smi', '--query-gpu=name,memory.total,driver_version', '--format=csv,noheader'], capture_output=True, text=True).stdout.strip()
    prov = {
        'command': ' '.join(['python3'] + sys.argv),
        'createdAt': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
        'gpu': smi,
        'versions': {'python': platform.python_version(), 'torch': torch.__version__, 'torchvision': torchvision.__version__, 'cuda': torch.version.cuda, 'cudnn': str(torch.backends.cudnn.version())},
        'settings': {'dtype': 'float32', 'cudnn.benchmark': torch.backends.cudnn.benchmark, 'cudnn.allow_tf32': torch.backends.cudnn.allow_tf32, 'matmul.allow_tf32': torch.backends.cuda.matmul.allow_tf32},
    }
    with open(a.out, 'w') as f:
        json.dump({'runtime': 'pytorch-eager-cuda', 'results': rows, 'provenance': prov}, f, indent=1)


if __name__ == '__main__':
    main()
