#!/usr/bin/env python3
"""CLoE in PyTorch: the reference implementation of cloe4j's model (as llm.c keeps train_gpt2.py beside its C code).

The network, the training loss and the inference path follow docs/MODEL.md and match cloe4j's Java graphs
(src/main/java/org/cloe4j/model/CloeModel.java) op for op, with the same parameter names, so a state dict loads 1:1
from a cloe4j model.safetensors (e.g. ``encoder.flair.e1_c1.conv.weight``, ``expert_decoder.seg.bias``,
``gate.fc1.weight``).

Modes:
  check STATE_DIR   the oracle of PyTorchParityTest: loads STATE_DIR/model.safetensors, config.json and
                    state.safetensors (inputs, the modality mask, and Java's outputs, loss terms and gradients of the
                    loss w.r.t. every parameter), recomputes them in float64 and prints the errors; the last line is
                    PARITY OK (exit 0) or PARITY FAIL (exit 1).
  bench ...         times a training step and inference (all four sequences / one) in eager fp32, TF32,
                    torch.compile and autocast-BF16 (CUDA); prints a table and writes JSON. See --help.

Works with PyTorch 1.13 (Debian's python3-torch) and 2.x. No dependency beyond torch and numpy: safetensors files
are read with struct/json/numpy.
"""
import argparse
import json
import math
import os
import platform
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# ---------------------------------------------------------------------------------------------------------------------
# constants shared with the Java code (cloe4j's CpuLoss, ConvBlock, ReliabilityGate)

IN_EPS = 1e-5          # InstanceNorm3d eps (PyTorch's default), no affine
WCE_CLAMP = 0.005      # RFNet: log(clamp(p, 0.005, 1))
DICE_EPS = 1e-7        # soft Dice denominator
GATE_HIDDEN = 16       # gate MLP 2 -> 16 -> 1
GATE_INPUT_SCALE = 10.0  # CloeConfig.GATE_INPUT_SCALE: the factor on the centred gate inputs
ABLATIONS = ("NO_MEC", "NO_REC", "NO_GATE", "NO_WEIGHTED_FUSION")


def f32(x):
    """A Java float constant as the double it really is (Java scales by float factors)."""
    return float(np.float32(x))


# ---------------------------------------------------------------------------------------------------------------------
# safetensors without the safetensors package

_DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64, "I32": np.int32}


def read_safetensors(path):
    """Returns ({name: np.ndarray}, metadata dict)."""
    with open(path, "rb") as f:
        raw = f.read()
    (hlen,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + hlen].decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    data = raw[8 + hlen:]
    out = {}
    for name, t in header.items():
        dt = np.dtype(_DTYPES[t["dtype"]]).newbyteorder("<")
        b, e = t["data_offsets"]
        out[name] = np.frombuffer(data[b:e], dtype=dt).reshape(t["shape"]).astype(dt.newbyteorder("="))
    return out, meta


def write_safetensors(path, tensors, metadata=None):
    """Writes float32 tensors {name: array} (in dict order) with string metadata."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs, off = [], 0
    for name, a in tensors.items():
        b = np.ascontiguousarray(np.asarray(a, dtype="<f4")).tobytes()
        header[name] = {"dtype": "F32", "shape": list(np.shape(a)), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# ---------------------------------------------------------------------------------------------------------------------
# the network (module names = cloe4j's parameter names)

class ConvBlock(nn.Module):
    """Conv3d (bias; 3^3 with reflect padding 1, or 1^3) -> InstanceNorm3d (eps 1e-5, no affine) -> LeakyReLU."""

    def __init__(self, cin, cout, k, stride, slope):
        super().__init__()
        pad = 1 if k == 3 else 0
        self.conv = nn.Conv3d(cin, cout, k, stride=stride, padding=pad, bias=True,
                              padding_mode="reflect" if pad else "zeros")
        self.slope = slope
        self._name = "conv_block"

    def forward(self, x):
        h = F.instance_norm(self.conv(x), eps=IN_EPS)
        if _KINKS.active:
            return _KINKS.leaky_relu(h, self.slope, self._name)
        return F.leaky_relu(h, self.slope)


class KinkTracker:
    """Where LeakyReLU's branch is a float32 coin toss. A ConvBlock's LeakyReLU input is instance-normalised (unit
    scale); an element within KINK_WINDOW of 0 may lie on the other side of the kink in the float32 network, and then
    its derivative there is 1 instead of the slope or back: one voxel out of 16^3 moves a gradient by ~1e-3 relative,
    far beyond float32 rounding. In check mode the tracker numbers every ConvBlock call of a pass, records such
    elements, and can flip the branch of chosen ones (x itself is unchanged up to (1 - slope)|x| <= 1e-5 in value)."""

    def __init__(self):
        self.active = False
        self.window = 0.0
        self.flip = set()      # (call, flat index) whose branch is taken the other way
        self.found = []        # (|x|, call, flat index, block name) within the window
        self.call = 0

    def start(self, window, flip=()):
        self.active, self.window, self.flip, self.found, self.call = True, window, set(flip), [], 0

    def stop(self):
        self.active = False

    def leaky_relu(self, h, slope, name):
        call = self.call
        self.call += 1
        flat = h.detach().reshape(-1)
        near = (flat.abs() < self.window).nonzero().reshape(-1).tolist()
        for i in near:
            self.found.append((abs(float(flat[i])), call, i, name))
        pos = h.detach() > 0
        mine = [i for (c, i) in self.flip if c == call]
        if mine:
            pos = pos.reshape(-1).clone()
            idx = torch.tensor(mine, dtype=torch.long, device=h.device)
            pos[idx] = ~pos[idx]
            pos = pos.reshape(h.shape)
        return torch.where(pos, h, h * slope)


_KINKS = KinkTracker()


class Encoder(nn.Module):
    """Phi_m: e1 = c1(x), e1 += c3(c2(e1)); e2..e4 the same after a stride-2 c1 (channels b, 2b, 4b, 8b)."""

    def __init__(self, base, slope):
        super().__init__()
        cin = 1
        for l in range(4):
            c = base << l
            setattr(self, "e%d_c1" % (l + 1), ConvBlock(cin, c, 3, 1 if l == 0 else 2, slope))
            setattr(self, "e%d_c2" % (l + 1), ConvBlock(c, c, 3, 1, slope))
            setattr(self, "e%d_c3" % (l + 1), ConvBlock(c, c, 3, 1, slope))
            cin = c

    def forward(self, x):
        feats, h = [], x
        for l in range(1, 5):
            h = getattr(self, "e%d_c1" % l)(h)
            h = h + getattr(self, "e%d_c3" % l)(getattr(self, "e%d_c2" % l)(h))
            feats.append(h)
        return feats


def up2(x):
    return F.interpolate(x, scale_factor=2, mode="trilinear", align_corners=True)


class Decoder(nn.Module):
    """D_sep / D_fuse: per level d = c1(up(d)); d = out(c2(cat(d, skip))); logits = seg(d1) (1^3 conv)."""

    def __init__(self, base, classes, slope):
        super().__init__()
        for level in (3, 2, 1):
            c = base << (level - 1)
            setattr(self, "d%d_c1" % level, ConvBlock(2 * c, c, 3, 1, slope))
            setattr(self, "d%d_c2" % level, ConvBlock(2 * c, c, 3, 1, slope))
            setattr(self, "d%d_out" % level, ConvBlock(c, c, 1, 1, slope))
        self.seg = nn.Conv3d(base, classes, 1, bias=True)

    def forward(self, e):
        d = e[3]
        for level in (3, 2, 1):
            d = getattr(self, "d%d_c1" % level)(up2(d))
            d = getattr(self, "d%d_out" % level)(getattr(self, "d%d_c2" % level)(torch.cat([d, e[level - 1]], 1)))
        return self.seg(d)


class RegionHead(nn.Module):
    """pi: r = sigmoid(pi2(pi1(mean e1))), pi1 a 1^3 ConvBlock b -> b/2, pi2 a 1^3 conv b/2 -> 1."""

    def __init__(self, base, slope):
        super().__init__()
        self.pi1 = ConvBlock(base, base // 2, 1, 1, slope)
        self.pi2 = nn.Conv3d(base // 2, 1, 1, bias=True)

    def forward(self, x):
        return torch.sigmoid(self.pi2(self.pi1(x)))


class Gate(nn.Module):
    """G: (u_m, v_m) -> 16 -> LeakyReLU -> 1."""

    def __init__(self, slope):
        super().__init__()
        self.fc1 = nn.Linear(2, GATE_HIDDEN)
        self.fc2 = nn.Linear(GATE_HIDDEN, 1)
        self.slope = slope

    def forward(self, uv):
        return self.fc2(F.leaky_relu(self.fc1(uv), self.slope))


class Cloe(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.modalities = list(cfg["modalities"])
        base, classes, slope = int(cfg["base"]), int(cfg["classes"]), f32(cfg["slope"])
        self.encoder = nn.ModuleDict({m: Encoder(base, slope) for m in self.modalities})
        self.expert_decoder = Decoder(base, classes, slope)
        self.fusion_decoder = Decoder(base, classes, slope)
        self.region = RegionHead(base, slope)
        self.gate = Gate(slope)
        self.ablations = set(cfg.get("ablations") or [])
        for n, mod in self.named_modules():
            if isinstance(mod, ConvBlock):
                mod._name = n

    # -- pieces -------------------------------------------------------------------------------------------------------

    def _head(self, feats, experts, present):
        """Region map, scores, gate and fusion over the given modalities' features; present = list of bools.

        Returns (prediction, r, scores or None, w) with w over the given modalities (0 where absent)."""
        k = len(feats)
        idx = [i for i in range(k) if present[i]]
        a = len(idx)
        r = self.region(sum(feats[i][0] for i in idx) / a)
        scores = None
        if a >= 2 and experts is not None:
            scores = agreement(experts, r, idx, k, detach=bool(self.cfg.get("detachScores", True)))
        if scores is None or "NO_WEIGHTED_FUSION" in self.ablations:
            w = feats[0][0].new_tensor([1.0 / a if present[i] else 0.0 for i in range(k)])
        else:
            u, v = scores["u"], scores["v"]
            if "NO_GATE" in self.ablations:
                logits = u + v
            else:
                if self.cfg.get("gateInput", "raw") == "centred":
                    # GATE_INPUT_SCALE * (score - its mean over the present), 0 where absent (CloeModel.centring)
                    on = feats[0][0].new_tensor([1.0 if present[i] else 0.0 for i in range(k)])
                    u = GATE_INPUT_SCALE * (u - (u * on).sum() / a) * on
                    v = GATE_INPUT_SCALE * (v - (v * on).sum() / a) * on
                logits = self.gate(torch.stack([u, v], 1)).reshape(k)
            mask = torch.tensor(present, dtype=torch.bool, device=logits.device)
            w = torch.softmax(logits.masked_fill(~mask, float("-inf")), 0)
        fused = [sum(w[i] * feats[i][l] for i in idx) for l in range(4)]
        p = torch.softmax(self.fusion_decoder(fused), 1)
        return p, r, scores, w

    # -- the two modes --------------------------------------------------------------------------------------------------

    def training_pass(self, images, present, target, wt, corrupted=None):
        """The training graph of one sample (CloeModel.build(mask, training=true)): every encoder and expert runs.

        images: {modality: [1,1,P,P,P]}; present: bools over self.modalities; target one-hot [1,C,P,P,P];
        wt [1,1,P,P,P]. Returns a dict with loss, terms, prediction, u, v, w."""
        cfg = self.cfg
        feats = [self.encoder[m](images[m]) for m in self.modalities]
        experts = [torch.softmax(self.expert_decoder(f), 1) for f in feats]
        p, r, scores, w = self._head(feats, experts, present)
        floor, smooth = seg_loss_parameters(cfg)
        terms = {"seg": seg_loss(p, target, floor, smooth)}
        # a corrupted sequence (the reliability augmentation, CloeModel.training(mask, corrupted)): its expert is out of
        # the expert loss and of MEC/REC, which are taken over the other present experts
        terms["experts"] = sum(seg_loss(q, target, floor, smooth) for i, q in enumerate(experts) if i != corrupted)
        expert_term = terms["experts"]
        agreeing = [i for i in range(len(experts)) if present[i] and i != corrupted]
        if scores is not None and corrupted is not None:
            scores = dict(scores)
            if len(agreeing) >= 2:
                sub = agreement(experts, r, agreeing, len(experts), detach=False)
                scores["mec"], scores["rec"] = sub["mec"], sub["rec"]
        if scores is not None and len(agreeing) >= 2:
            terms["mec"], terms["rec"] = scores["mec"], scores["rec"]
            cons = None
            if "NO_MEC" not in self.ablations:
                cons = scores["mec"]
            if "NO_REC" not in self.ablations:
                rr = f32(cfg["lambdaRec"]) * scores["rec"]
                cons = rr if cons is None else cons + rr
            if cons is not None:
                expert_term = expert_term + f32(cfg["eta"]) * cons
        loss = terms["seg"] + f32(cfg["alpha"]) * expert_term
        if cfg.get("regionSupervised", True):
            terms["region"] = bce(r, wt)
            loss = loss + f32(cfg["gamma"]) * terms["region"]
        loss = loss * f32(1.0 / int(cfg.get("batch", 1)))
        out = {"loss": loss, "terms": terms, "prediction": p, "w": w}
        if scores is not None:
            out["u"], out["v"] = scores["u"], scores["v"]
        return out

    def infer(self, images, present_names):
        """Compact inference (CloeModel.inference(mask, window, compact=true)): only present encoders run; experts
        only where two or more are present. Returns prediction, w (over present modalities) and u, v when scored."""
        names = [m for m in self.modalities if m in present_names]
        feats = [self.encoder[m](images[m]) for m in names]
        experts = [torch.softmax(self.expert_decoder(f), 1) for f in feats] if len(names) >= 2 else None
        p, r, scores, w = self._head(feats, experts, [True] * len(names))
        out = {"prediction": p, "w": w, "modalities": names}
        if scores is not None:
            out["u"], out["v"] = scores["u"], scores["v"]
        return out


def cosine(a, b):
    """Cosine of two flattened maps; 0 when either has norm 0 (cloe4j's pairwiseCosine)."""
    den = a.norm() * b.norm()
    ok = den > 0
    # torch.where instead of a Python branch: no host sync, and torch.compile sees one graph
    return torch.where(ok, (a * b).sum() / torch.where(ok, den, torch.ones_like(den)), torch.zeros_like(den))


def agreement(experts, r, idx, k, detach):
    """MEC/REC over the present experts idx (of k): u_m, v_m = mean cosine with the other present experts (0 for
    absent m), L_MEC / L_REC = 1 - mean cosine over unordered present pairs (global / inside r)."""
    flat = [e.reshape(-1) for e in experts]
    flat_r = [(e * r).reshape(-1) for e in experts]
    s, sr = {}, {}
    for x in range(len(idx)):
        for y in range(x + 1, len(idx)):
            a, b = idx[x], idx[y]
            s[a, b] = s[b, a] = cosine(flat[a], flat[b])
            sr[a, b] = sr[b, a] = cosine(flat_r[a], flat_r[b])
    n = len(idx)
    zero = experts[0].new_zeros(())
    u = torch.stack([sum(s[m, o] for o in idx if o != m) / (n - 1) if m in idx else zero for m in range(k)])
    v = torch.stack([sum(sr[m, o] for o in idx if o != m) / (n - 1) if m in idx else zero for m in range(k)])
    pairs = [(a, b) for (a, b) in s if a < b]
    mec = 1 - sum(s[q] for q in pairs) / len(pairs)
    rec = 1 - sum(sr[q] for q in pairs) / len(pairs)
    if detach:
        u, v = u.detach(), v.detach()
    return {"u": u, "v": v, "mec": mec, "rec": rec}


def _autocast_on():
    try:  # PyTorch >= 2.4 takes the device type
        return torch.is_autocast_enabled("cuda") or torch.is_autocast_enabled("cpu")
    except TypeError:  # 1.13 .. 2.3
        return torch.is_autocast_enabled() or torch.is_autocast_cpu_enabled()


def bce(p, t):
    """Mean binary cross-entropy, logs clamped at -100 (F.binary_cross_entropy; autocast refuses that op, so under
    autocast the same formula is written out in float32)."""
    if _autocast_on():
        p, t = p.float(), t.float()
        return -(t * torch.clamp(torch.log(p), min=-100) + (1 - t) * torch.clamp(torch.log(1 - p), min=-100)).mean()
    return F.binary_cross_entropy(p, t)


def seg_loss_parameters(cfg):
    """(class-weight floor, Dice smoothing) of a config.json; absent (written before they existed) they are 0, 0:
    RFNet's loss, as Java reads them."""
    return f32(cfg.get("ceWeightFloor", 0.0)), f32(cfg.get("diceSmooth", 0.0))


def seg_loss(p, y, floor=0.0, smooth=0.0):
    """L_seg: CE with per-sample class weights max(1 - share of class, floor) and log(clamp(p, 0.005, 1)), plus soft
    Dice (2 I + s) / (P + T + s + 1e-7) over all classes incl. background (sums over samples and voxels).
    floor 0 and smooth 0 are RFNet's loss; the presets use floor 1 (plain CE) and smooth 1."""
    if p.dtype in (torch.float16, torch.bfloat16):
        p = p.float()
    n, c = p.shape[:2]
    vox = p[0, 0].numel()
    wc = torch.clamp(1.0 - y.reshape(n, c, -1).sum(2) / vox, min=floor)   # [N,C]
    logp = torch.log(torch.clamp(p, WCE_CLAMP, 1.0))
    wce = -(wc.reshape(n, c, *([1] * (p.dim() - 2))) * y * logp).sum() / (n * vox)
    dims = [0] + list(range(2, p.dim()))
    inter = (p * y).sum(dims)
    den = p.sum(dims) + y.sum(dims) + smooth + DICE_EPS
    dice = 1.0 - ((2.0 * inter + smooth) / den).mean()
    return wce + dice


def read_config(path):
    with open(path) as f:
        return json.load(f)


def load_model(state_dir, dtype=torch.float64):
    """The cloe4j checkpoint's model in PyTorch; every tensor must match by name and shape (both ways)."""
    cfg = read_config(os.path.join(state_dir, "config.json"))
    model = Cloe(cfg)
    weights, meta = read_safetensors(os.path.join(state_dir, "model.safetensors"))
    own = model.state_dict()
    missing = sorted(set(own) - set(weights))
    extra = sorted(set(weights) - set(own))
    if missing or extra:
        raise SystemExit("state dict names differ: missing in file %s, unexpected in file %s" % (missing, extra))
    for k, v in own.items():
        if tuple(v.shape) != tuple(weights[k].shape):
            raise SystemExit("%s: file has shape %s, model %s" % (k, weights[k].shape, tuple(v.shape)))
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in weights.items()})
    return model.to(dtype), cfg, meta


# ---------------------------------------------------------------------------------------------------------------------
# check: the oracle of PyTorchParityTest

# Tolerances. Java computes in float32 (norms, losses and the InstanceNorm statistics accumulated in double), the
# reference in float64, so the differences are float32 rounding carried through ~30 conv/norm layers and back.
# Measured on PyTorchParityTest's tiny model (base 4, 16^3, present flair+t1ce+t2 and t1ce; torch 1.13 CPU):
#   forward  prediction 2e-6..4e-6 rel (probabilities, max abs ~1e-5), u/v/w ~1e-8..5e-8
#   loss     loss and every term <= 3e-7 rel
#   grads    weights <= 6e-6 rel; biases of convs before InstanceNorm <= 6e-5 (relative to the floor, see below)
# so each bound has a 7-30x margin, while a wrong op moves the errors far beyond it. Measured by editing one op of
# this script at a time and checking the same two Java dumps (worst forward / loss / gradient rel. error):
#   zero instead of reflect padding      0.77 / 0.14 / 3.0      align_corners=False         0.38 / 0.015 / 0.82
#   nearest instead of trilinear         0.61 / 0.019 / 2.0      InstanceNorm eps 1e-4       6e-4 / 2e-5 / 5e-2
#   LeakyReLU slope 0.01                 0.61 / 0.13 / 1.8       no residual in level 4      0.44 / 0.021 / 5e2
#   no WCE clamp                         - / 0.28 / 1.1          WCE without class weights   - / 0.59 / 0.84
#   Dice without background              - / 0.076 / 0.33        expert losses averaged      - / 3.0 / 3.1
#   u, v not detached                    - / - / 3.7e-3          REC without the region map  2.7e-3 / 7e-4 / 0.21
#   gate ReLU instead of LeakyReLU       3e-5 / - / 8.8e-2       softmax over absent too     0.61 / 5e-3 / 0.87
#   eta 0.11 instead of 0.1              - / 1.1e-3 / 2.1e-2     BCE scaled by 1.0001        - / 1e-4 / 1e-4
#   (2026-11-30, the presets' loss) ceWeightFloor ignored, i.e. RFNet's class weights: - / 1.4 / 3.3 on both
#   cases with the presets' loss, the RFNet-loss case unaffected
# (the score, gate and fusion cases only with >= 2 present). Not detectable, and rightly so: the region head fed the
# sum instead of the mean of e1 (its InstanceNorm removes the scale; only eps differs: gradients 1.1e-4).
TOL_FORWARD = 3e-5     # prediction, u, v, w (training and compact inference): ||java - torch|| / ||torch||
TOL_LOSS = 1e-5        # loss and each term: |java - torch| / |torch|
TOL_GRAD = 5e-4        # each parameter's gradient: ||java - torch|| / max(||torch||, floor)
# The biases of convs followed by InstanceNorm have an analytic gradient of exactly 0 (the norm removes a per-channel
# constant), so both sides hold only rounding noise there and a relative error is meaningless: gradients are judged
# relative to max(||torch||, GRAD_FLOOR * largest gradient norm of the model).
GRAD_FLOOR = 1e-3
# LeakyReLU branch ambiguity (see KinkTracker): instance-normalised inputs closer than this to 0 may have taken the
# other branch in float32 (measured forward differences of normalised activations are ~1e-6); at most MAX_KINKS of
# the closest are considered.
KINK_WINDOW = 2e-5
MAX_KINKS = 16


def rel_err(j, t, floor=0.0):
    d = float(np.linalg.norm((j - t).ravel()))
    n = float(np.linalg.norm(t.ravel()))
    scale = max(n, floor)
    err = d / scale if scale > 0 else d
    maxabs = float(np.max(np.abs(j - t))) if j.size else 0.0
    return err, maxabs, n


def check(state_dir, verbose=True):
    torch.set_default_dtype(torch.float64)
    model, cfg, _ = load_model(state_dir, torch.float64)
    state, meta = read_safetensors(os.path.join(state_dir, "state.safetensors"))
    mods = model.modalities
    present_names = [m for m in meta["present"].split(",") if m]
    present = [m in present_names for m in mods]
    corrupted = mods.index(meta["corrupted"]) if meta.get("corrupted") else None
    dd = lambda a: torch.from_numpy(np.array(a, dtype=np.float64))
    images = {m: dd(state["image." + m]) for m in mods}
    target, wt = dd(state["target"]), dd(state["wt"])

    model.train()
    params = dict(model.named_parameters())

    def run_pass(flip=()):
        model.zero_grad()
        _KINKS.start(KINK_WINDOW, flip)
        try:
            o = model.training_pass(images, present, target, wt, corrupted)
            o["loss"].backward()
        finally:
            _KINKS.stop()
        g = {k: (p.grad.detach().numpy().copy() if p.grad is not None else None) for k, p in params.items()}
        return o, g, list(_KINKS.found)

    t0 = time.perf_counter()
    out, grads, found = run_pass()
    # LeakyReLU inputs within KINK_WINDOW of 0: float32 may have taken the other branch. Each candidate's effect on
    # the gradients is measured by flipping it alone; flips are then kept greedily while they bring the reference
    # closer to Java (sum over tensors of the squared relative gradient error). A flip changes one voxel's derivative
    # in one layer, so no choice of flips can hide a wrong op (whose errors are spread over every voxel).
    java_grad = {k: state["grad." + k].astype(np.float64).reshape(tuple(p.shape)) if "grad." + k in state
                 else np.zeros(tuple(p.shape)) for k, p in params.items()}
    zero = {k: np.zeros(tuple(p.shape)) for k, p in params.items()}
    base = {k: (g if g is not None else zero[k]) for k, g in grads.items()}
    norms0 = [float(np.linalg.norm(g)) for g in base.values()]
    floor0 = GRAD_FLOOR * max(norms0)

    def score(gr):
        return sum((float(np.linalg.norm(java_grad[k] - gr[k])) / max(float(np.linalg.norm(gr[k])), floor0)) ** 2
                   for k in gr)

    candidates = sorted(found)[:MAX_KINKS]
    deltas = []
    for (_, call, idx, name) in candidates:
        _, gk, _ = run_pass([(call, idx)])
        deltas.append({k: (gk[k] if gk[k] is not None else zero[k]) - base[k] for k in base})
    chosen, cur, cur_score = [], dict(base), score(base)
    while True:
        best = None
        for j, dlt in enumerate(deltas):
            if j in chosen:
                continue
            trial = {k: cur[k] + dlt[k] for k in cur}
            sc = score(trial)
            if sc < cur_score and (best is None or sc < best[0]):
                best = (sc, j, trial)
        if best is None:
            break
        cur_score, cur = best[0], best[2]
        chosen.append(best[1])
    grads = {k: (cur[k] if grads[k] is not None else None) for k in cur}
    kink_note = "LeakyReLU inputs within %.0e of 0: %d (checked %d); branch flipped to match float32: %s; %.1f s" % (
        KINK_WINDOW, len(found), len(candidates),
        ", ".join("%s call %d elem %d (x=%.1e)" % (candidates[j][3], candidates[j][1], candidates[j][2],
                                                   candidates[j][0]) for j in chosen) or "none",
        time.perf_counter() - t0)

    lines, ok = [], True

    def report(kind, name, err, maxabs, norm, tol):
        nonlocal ok
        good = err <= tol and math.isfinite(err)
        ok &= good
        lines.append("%-7s %-48s rel %.3e  maxabs %.3e  |torch| %.3e  tol %.0e  %s"
                     % (kind, name, err, maxabs, norm, tol, "ok" if good else "FAIL"))
        return err

    worst = {"forward": 0.0, "loss": 0.0, "grad": 0.0}
    # forward outputs
    for name in ("prediction", "u", "v", "w"):
        if name not in out:
            if name in state:
                ok = False
                lines.append("forward %-48s Java has it, the reference does not (fewer than 2 present?)  FAIL" % name)
            continue
        if name not in state:
            ok = False
            lines.append("forward %-48s missing from the Java state  FAIL" % name)
            continue
        t = out[name].detach().numpy().reshape(-1)
        j = state[name].astype(np.float64).reshape(-1)
        e, mx, n = rel_err(j, t)
        worst["forward"] = max(worst["forward"], report("forward", name, e, mx, n, TOL_FORWARD))
    # loss and terms
    pairs = [("loss", out["loss"])] + [("term." + k, v) for k, v in out["terms"].items()]
    java_terms = sorted(k for k in state if k.startswith("term."))
    for k in java_terms:
        if k not in dict(pairs):
            ok = False
            lines.append("loss    %-48s Java has it, the reference does not  FAIL" % k)
    for name, v in pairs:
        if name not in state:
            ok = False
            lines.append("loss    %-48s missing from the Java state  FAIL" % name)
            continue
        t = np.array([float(v)])
        j = state[name].astype(np.float64).reshape(-1)
        e, mx, n = rel_err(j, t)
        worst["loss"] = max(worst["loss"], report("loss", name, e, mx, n, TOL_LOSS))
    # inference (compact graph), when the state holds it
    if "infer.prediction" in state:
        with torch.no_grad():
            inf = model.infer({m: images[m] for m in present_names}, present_names)
        for name in ("prediction", "w", "u", "v"):
            key = "infer." + name
            if key not in state and name not in inf:
                continue
            if (key in state) != (name in inf):
                ok = False
                lines.append("forward %-48s present on one side only  FAIL" % key)
                continue
            t = inf[name].numpy().reshape(-1)
            j = state[key].astype(np.float64).reshape(-1)
            e, mx, n = rel_err(j, t)
            worst["forward"] = max(worst["forward"], report("forward", key, e, mx, n, TOL_FORWARD))
    # gradients of every parameter
    norms = [float(np.linalg.norm(g)) for g in grads.values() if g is not None]
    floor = GRAD_FLOOR * (max(norms) if norms else 0.0)
    for k in sorted(s for s in state if s.startswith("grad.")):
        if k[5:] not in grads:
            ok = False
            lines.append("grad    %-48s not a parameter of the reference  FAIL" % k[5:])
    for name, g in grads.items():
        key = "grad." + name
        t = g if g is not None else zero[name]
        if key not in state:
            if g is not None and np.any(g != 0):
                ok = False
                lines.append("grad    %-48s Java has no gradient, the reference's norm is %.3e  FAIL"
                             % (name, float(np.linalg.norm(g))))
            continue
        j = state[key].astype(np.float64).reshape(t.shape)
        e, mx, n = rel_err(j, t, floor)
        worst["grad"] = max(worst["grad"], report("grad", name, e, mx, n, TOL_GRAD))

    if verbose:
        print("torch %s, modalities %s, present %s, config base %s patch %s"
              % (torch.__version__, mods, present_names, cfg["base"], cfg["patch"]))
        print("\n".join(lines))
        print(kink_note)
        pt = (out["prediction"].detach() * target).sum(1)
        print("voxels whose true-class probability is under the WCE clamp %.3f (zero gradient there): %d of %d"
              % (WCE_CLAMP, int((pt < WCE_CLAMP).sum()), pt.numel()))
        print("worst relative error: forward %.3e (tol %.0e), loss %.3e (tol %.0e), gradients %.3e (tol %.0e)"
              % (worst["forward"], TOL_FORWARD, worst["loss"], TOL_LOSS, worst["grad"], TOL_GRAD))
        print("PARITY OK" if ok else "PARITY FAIL")
    return ok


# ---------------------------------------------------------------------------------------------------------------------
# bench: training step and inference timings (issue 6)

def paper_config(base, patch, modalities=("flair", "t1ce", "t1", "t2"), classes=4):
    return {"preset": "paper", "modalities": list(modalities), "classes": classes, "base": base, "patch": patch,
            "batch": 1, "lr": 2e-4, "alpha": 1.0, "eta": 0.1, "lambdaRec": 1.0, "gamma": 1.0,
            "regionSupervised": True, "detachScores": True, "slope": 0.2, "ablations": [], "seed": 1234,
            "ceWeightFloor": 1.0, "diceSmooth": 1.0}


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def _time(fn, device, warmup, iters):
    for _ in range(warmup):
        fn()
    _sync(device)
    ts = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        _sync(device)
        ts.append(time.perf_counter() - t0)
    ts.sort()
    return {"median_ms": 1e3 * ts[len(ts) // 2], "min_ms": 1e3 * ts[0], "iters": iters}


def bench(args):
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("bench: CUDA requested but torch.cuda.is_available() is false (use --device cpu)")
    torch.manual_seed(1234)
    cfg = paper_config(args.base, args.patch)
    mods, P, C = cfg["modalities"], args.patch, cfg["classes"]
    images = {m: torch.randn(1, 1, P, P, P, device=device) for m in mods}
    lab = torch.randint(0, C, (1, P, P, P), device=device)
    target = F.one_hot(lab, C).permute(0, 4, 1, 2, 3).float().contiguous()
    wt = (lab > 0).float().unsqueeze(1)
    full = [True] * len(mods)

    variants = [("eager-fp32", {"tf32": False, "compile": False, "bf16": False}),
                ("eager-tf32", {"tf32": True, "compile": False, "bf16": False}),
                ("compile-tf32", {"tf32": True, "compile": True, "bf16": False}),
                ("autocast-bf16", {"tf32": True, "compile": False, "bf16": True})]
    if args.variants:
        keep = set(args.variants.split(","))
        variants = [v for v in variants if v[0] in keep]
    results = []
    for name, opt in variants:
        row = {"variant": name, "device": str(device), "base": args.base, "patch": P}
        if name == "eager-tf32" and device.type != "cuda":
            row["skipped"] = "TF32 is a CUDA mode"
        elif opt["compile"] and not hasattr(torch, "compile"):
            row["skipped"] = "torch.compile needs PyTorch 2 (this is %s)" % torch.__version__
        elif opt["bf16"] and device.type == "cuda" and not torch.cuda.is_bf16_supported():
            row["skipped"] = "this GPU has no BF16"
        if "skipped" in row:
            results.append(row)
            print("%-14s skipped: %s" % (name, row["skipped"]), flush=True)
            continue
        if device.type == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = opt["tf32"]
            torch.backends.cudnn.allow_tf32 = opt["tf32"]
            torch.backends.cudnn.benchmark = True
        try:
            row.update(_bench_variant(cfg, device, images, target, wt, full, opt, args))
        except Exception as e:  # one failing variant (e.g. compile on an old stack) must not lose the others
            row["error"] = "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")
        results.append(row)
        print("%-14s %s" % (name, {k: v for k, v in row.items() if k not in ("variant", "device", "base", "patch")}),
              flush=True)

    print()
    print("%-14s %14s %18s %18s %12s" % ("variant", "train step ms", "infer 4 seq ms", "infer 1 seq ms", "peak GiB"))
    for r in results:
        if "skipped" in r or "error" in r:
            print("%-14s %s" % (r["variant"], r.get("skipped") or r.get("error")))
            continue
        print("%-14s %14.1f %18.1f %18.1f %12s" % (r["variant"], r["train"]["median_ms"], r["infer_all"]["median_ms"],
                                                  r["infer_one"]["median_ms"],
                                                  "%.2f" % r["peak_gib"] if r.get("peak_gib") is not None else "-"))
    doc = {"torch": torch.__version__, "python": platform.python_version(), "device": str(device),
           "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor(),
           "base": args.base, "patch": P, "warmup": args.warmup, "iters": args.iters, "results": results}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=2)
        print("wrote", args.json)
    return doc


def _bench_variant(cfg, device, images, target, wt, full, opt, args):
    torch.manual_seed(1234)
    model = Cloe(cfg).to(device)
    opt_ = torch.optim.Adam(model.parameters(), lr=cfg["lr"], betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-4,
                            amsgrad=True)
    train_fn = model.training_pass
    infer_fn = model.infer
    if opt["compile"]:
        train_fn = torch.compile(train_fn)
        infer_fn = torch.compile(infer_fn)

    def autocast():
        if opt["bf16"]:
            return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
        return _Null()

    def step():
        opt_.zero_grad(set_to_none=True)
        with autocast():
            out = train_fn(images, full, target, wt)
        out["loss"].float().backward()
        opt_.step()

    one = [cfg["modalities"][0]]

    def infer_all():
        with torch.no_grad(), autocast():
            infer_fn(images, cfg["modalities"])

    def infer_one():
        with torch.no_grad(), autocast():
            infer_fn({one[0]: images[one[0]]}, one)

    res = {}
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    model.train()
    res["train"] = _time(step, device, args.warmup, args.iters)
    res["peak_gib"] = torch.cuda.max_memory_allocated(device) / 2 ** 30 if device.type == "cuda" else None
    model.eval()
    res["infer_all"] = _time(infer_all, device, args.warmup, args.iters)
    res["infer_one"] = _time(infer_one, device, args.warmup, args.iters)
    res["params"] = sum(p.numel() for p in model.parameters())
    return res


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


# ---------------------------------------------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode")
    c = sub.add_parser("check", help="compare a cloe4j state dump with this reference (float64)")
    c.add_argument("state_dir")
    b = sub.add_parser("bench", help="time a training step and inference")
    b.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    b.add_argument("--base", type=int, default=16)
    b.add_argument("--patch", type=int, default=112)
    b.add_argument("--warmup", type=int, default=None, help="untimed iterations (default 3 on CUDA, 1 on CPU)")
    b.add_argument("--iters", type=int, default=10)
    b.add_argument("--variants", default="", help="comma list of eager-fp32,eager-tf32,compile-tf32,autocast-bf16")
    b.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    b.add_argument("--json", default="bench-pytorch.json")
    args = ap.parse_args(argv)
    if args.mode == "check":
        return 0 if check(args.state_dir) else 1
    if args.mode == "bench":
        if args.threads:
            torch.set_num_threads(args.threads)
        if args.warmup is None:
            args.warmup = 3 if args.device.startswith("cuda") else 1
        bench(args)
        return 0
    ap.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
