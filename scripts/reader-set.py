#!/usr/bin/env python3
"""Makes a set of QR images of the kinds people really show, reads it with Propusk's reader and
with zxing-cpp, and prints how many each read per kind, and how fast.

Needs Python 3 with `pip install segno zxing-cpp pillow numpy`, and the reader example built:
`cargo build --release -p propusk-qr --example read_images`.

    python3 scripts/reader-set.py [--out DIR] [--each N] [--seed S] [--wasm]

With --wasm, the web app's engine (web/app/engine.wasm, run by Node) reads the set too.

The texts are the HC1 texts of the EU DCC test vectors (`../shared/vectors/eu-dcc`), the
version 20-25 codes national test sets publish. Kinds:

  crisp-2px, crisp-3px   screen PNGs at 2 or 3 pixels a module, quiet zone 0-4 modules
  fractional             a page rendered at a resolution that gives 2.1-2.9 pixels a module
  alpha                  RGBA: dark modules opaque, light ones transparent
  palette                palette PNGs of 2-16 colours, some with coloured dark modules
  small-1.5px            modules of about 1.5 pixels (smoothly resampled)
  blur-1.8px             4-pixel modules blurred with a radius of 1.6-2.0 pixels
  perspective-8deg       a code seen 8 degrees off its plane
  photo                  a phone showing the code among other objects, tilted, unevenly lit,
                         noisy, saved as JPEG
  inverted               light modules on dark
"""

import argparse
import base64
import glob
import json
import os
import random
import subprocess
import sys
import time

import numpy as np
import segno
import zxingcpp
from PIL import Image, ImageDraw, ImageFilter, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def hc1_texts():
    texts = []
    for path in sorted(glob.glob(os.path.join(ROOT, "..", "shared", "vectors", "eu-dcc", "**", "*.json"),
                                 recursive=True)):
        try:
            with open(path, encoding="utf-8") as f:
                prefix = json.load(f).get("PREFIX", "")
        except (ValueError, AttributeError):
            continue
        if prefix.startswith("HC1:") and 300 < len(prefix) < 1100 and prefix not in texts:
            texts.append(prefix)
    if not texts:
        sys.exit("no HC1 texts found under ../shared/vectors/eu-dcc")
    return texts


def modules(text, rnd):
    """The code's modules as a 0/255 greyscale image, one pixel a module, with a quiet zone."""
    for version in range(rnd.randint(20, 25), 41):
        try:
            code = segno.make(text, version=version, error=rnd.choice("lmq"), micro=False)
            break
        except segno.DataOverflowError:
            continue
    border = rnd.randint(0, 4)
    rows = [list(r) for r in code.matrix_iter(scale=1, border=border)]
    return Image.fromarray(np.array([[0 if v else 255 for v in r] for r in rows], np.uint8), "L")


def scaled(mods, px, smooth=False):
    side = int(round(mods.size[0] * px))
    return mods.resize((side, side), Image.BILINEAR if smooth else Image.NEAREST)


def padded(im, pad, fill=255):
    out = Image.new("L", (im.size[0] + 2 * pad, im.size[1] + 2 * pad), fill)
    out.paste(im, (pad, pad))
    return out


def perspective(im, rnd):
    im = padded(im, 40, 200)
    w, h = im.size
    d = w * np.tan(np.radians(8)) * rnd.uniform(0.8, 1.2) / 2
    src = [(0, 0), (w, 0), (w, h), (0, h)]
    dst = [(d, 0), (w - d, 0), (w, h), (0, h)]
    a, b = [], []
    for (x, y), (sx, sy) in zip(dst, src):
        a.append([x, y, 1, 0, 0, 0, -sx * x, -sx * y])
        b.append(sx)
        a.append([0, 0, 0, x, y, 1, -sy * x, -sy * y])
        b.append(sy)
    coeffs = np.linalg.solve(np.array(a, float), np.array(b, float))
    return im.transform((w, h), Image.PERSPECTIVE, tuple(coeffs), Image.BILINEAR, fillcolor=200)


def photo(mods, rnd):
    code = scaled(mods, rnd.uniform(3.0, 4.0), smooth=True)
    cw = code.size[0]
    # The phone: a dark body, a light screen with the code and some text lines.
    phone = Image.new("L", (cw + 40, int(cw * 1.9)), 25)
    screen = Image.new("L", (cw + 16, int(cw * 1.9) - 40), 235)
    draw = ImageDraw.Draw(screen)
    for k in range(4):
        y = cw + 30 + k * 22
        draw.rectangle([10, y, 10 + rnd.randint(60, cw - 20), y + 8], fill=90)
    screen.paste(code, (8, 14))
    phone.paste(screen, (12, 20))
    # The table: a texture, a few objects (a card with a grid, keys, a cup).
    w, h = phone.size[0] * 2 + 200, phone.size[1] + 260
    table = np.random.RandomState(rnd.randint(0, 1 << 30)).normal(150, 18, (h, w))
    scene = Image.fromarray(np.clip(table, 0, 255).astype(np.uint8), "L").filter(ImageFilter.GaussianBlur(2))
    draw = ImageDraw.Draw(scene)
    cx = phone.size[0] + 140
    draw.rectangle([cx, 40, cx + 220, 180], fill=220, outline=40, width=3)
    for i in range(8):
        draw.line([cx + 10 + 25 * i, 50, cx + 10 + 25 * i, 170], fill=60, width=2)
    draw.ellipse([cx + 20, h - 220, cx + 170, h - 70], fill=70, outline=230, width=6)
    draw.rectangle([20, h - 60, 160, h - 30], fill=50)
    scene.paste(phone, (60, 120))
    scene = scene.rotate(rnd.uniform(-15, 15), resample=Image.BILINEAR, fillcolor=140)
    arr = np.array(scene, float)
    yy, xx = np.mgrid[0:arr.shape[0], 0:arr.shape[1]]
    light = 0.55 + 0.45 * (xx / arr.shape[1]) * (0.7 + 0.3 * yy / arr.shape[0])
    arr = arr * light + np.random.RandomState(rnd.randint(0, 1 << 30)).normal(0, 9, arr.shape)
    out = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "L")
    return out.filter(ImageFilter.GaussianBlur(rnd.uniform(0.4, 0.9)))


def make(kind, text, rnd):
    """An image of `kind` holding `text`, and the file suffix to save it with."""
    mods = modules(text, rnd)
    if kind == "crisp-2px":
        return scaled(mods, 2), "png"
    if kind == "crisp-3px":
        return scaled(mods, 3), "png"
    if kind == "fractional":
        return scaled(mods, rnd.uniform(2.1, 2.9)), "png"
    if kind == "alpha":
        grey = np.array(scaled(mods, rnd.choice([2, 3])))
        rgba = np.zeros(grey.shape + (4,), np.uint8)
        light = 255 if rnd.random() < 0.5 else 0  # what the transparent pixels' colour says
        rgba[grey < 128] = [0, 0, 0, 255]
        rgba[grey >= 128] = [light, light, light, 0]
        return Image.fromarray(rgba, "RGBA"), "png"
    if kind == "palette":
        rgb = scaled(mods, rnd.choice([2, 3])).convert("RGB")
        if rnd.random() < 0.5:
            arr = np.array(rgb)
            arr[arr[:, :, 0] < 128] = [20, 40, 120]  # dark blue modules
            rgb = Image.fromarray(arr, "RGB")
        return rgb.convert("P", palette=Image.ADAPTIVE, colors=rnd.randint(2, 16)), "png"
    if kind == "small-1.5px":
        return padded(scaled(mods, rnd.uniform(1.4, 1.6), smooth=True), 8), "png"
    if kind == "blur-1.8px":
        return padded(scaled(mods, 4), 12).filter(ImageFilter.GaussianBlur(rnd.uniform(1.6, 2.0))), "png"
    if kind == "perspective-8deg":
        return perspective(scaled(mods, 4), rnd), "png"
    if kind == "photo":
        return photo(mods, rnd), "jpg"
    if kind == "inverted":
        return ImageOps.invert(scaled(mods, 3)), "png"
    raise ValueError(kind)


KINDS = ["crisp-2px", "crisp-3px", "fractional", "alpha", "palette", "small-1.5px",
         "blur-1.8px", "perspective-8deg", "photo", "inverted"]


def outcomes(command):
    """What a reader printed per file: the text read (or None) and the milliseconds taken."""
    found = {}
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    for line in run.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) == 4:
            text = parts[3].encode().decode("unicode_escape") if parts[1] == "read" else None
            found[parts[0]] = (text, float(parts[2].split()[0]))
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="target/reader-set")
    parser.add_argument("--each", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reader", default=os.path.join(ROOT, "target", "release", "examples", "read_images"))
    parser.add_argument("--wasm", action="store_true", help="also read with web/app/engine.wasm (Node)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for old in glob.glob(os.path.join(args.out, "*")):
        os.remove(old)
    texts = hc1_texts()
    rnd = random.Random(args.seed)
    expected = {}
    for kind in KINDS:
        for k in range(args.each):
            text = rnd.choice(texts)
            image, suffix = make(kind, text, rnd)
            name = f"{kind}-{k:03}.{suffix}"
            image.save(os.path.join(args.out, name), **({"quality": 85} if suffix == "jpg" else {}))
            expected[name] = text

    ours = outcomes([args.reader, args.out])
    wasm = outcomes(["node", os.path.join(HERE, "read-images-wasm.mjs"), args.out]) if args.wasm else None

    print(f"{'kind':18} {'propusk':>9} {'zxing-cpp':>10}   ms/image propusk  zxing-cpp"
          + ("   wasm  ms/image" if wasm is not None else ""))
    totals = [0, 0, 0]
    for kind in KINDS:
        names = [n for n in expected if n.startswith(kind + "-")]
        mine = theirs = 0
        my_ms = their_ms = 0.0
        for name in names:
            text, ms = ours.get(name, (None, 0.0))
            mine += text == expected[name]
            my_ms += ms
            start = time.perf_counter()
            found = zxingcpp.read_barcodes(Image.open(os.path.join(args.out, name)))
            their_ms += (time.perf_counter() - start) * 1000
            theirs += any(b.text == expected[name] for b in found)
        n = len(names)
        totals = [totals[0] + mine, totals[1] + theirs, totals[2] + n]
        line = f"{kind:18} {mine:>4}/{n:<4} {theirs:>5}/{n:<4}   {my_ms / n:8.1f} {their_ms / n:10.1f}"
        if wasm is not None:
            read = sum(wasm.get(name, (None, 0.0))[0] == expected[name] for name in names)
            ms = sum(wasm.get(name, (None, 0.0))[1] for name in names)
            line += f"   {read:>3}/{n:<4} {ms / n:6.1f}"
        print(line)
    print(f"{'all':18} {totals[0]:>4}/{totals[2]:<4} {totals[1]:>5}/{totals[2]:<4}")


if __name__ == "__main__":
    main()
