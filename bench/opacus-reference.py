"""A reference setting of bench/training.bench.ts in Opacus's DP-SGD, for a same-machine comparison.

Generated 50,000 x 20 features uniform in [-1, 1]; the label is the sign of a random projection
(binary models) or the argmax of 10 random projections (the softmax model); Poisson sampling at
q = 256/50,000; noise multiplier 1, clip norm 1; SGD with learning rate 0.1 and momentum 0.9.
Models: logistic (20-1), mlp-64 (20-64-1, ReLU), mlp-256-256 (20-256-256-1, ReLU) and
mlp-256-256-softmax10 (20-256-256-10, ReLU, cross-entropy). Prints the expected examples per second
of this process's CPU time (steps x 256 / CPU seconds) as its last line, which is what the bench reads.

  python3 bench/opacus-reference.py --model=mlp-64 --steps=300

When the `opacus` package is importable, it trains through opacus.PrivacyEngine. Otherwise (this
machine reaches no Python package registry) it runs Opacus's algorithm written out in plain PyTorch,
step for step as Opacus 1.4 does it for nn.Linear layers:
  - Poisson sampling as UniformWithReplacementSampler: a mask torch.rand(N) < q per step, its indices
    fed to a DataLoader as the batch (rows fetched one by one from a TensorDataset and collated);
  - per-sample gradients as GradSampleModule: a forward hook keeps each Linear layer's input, a full
    backward hook takes the gradient at its output, multiplies it by the batch size (the loss is a
    mean) and forms einsum("n...i,n...j->nij", backprops, activations) for the weight and
    einsum("n...k->nk", backprops) for the bias;
  - clipping as DPOptimizer.clip_and_accumulate: per-sample norms over all parameters, factor
    min(1, C / (norm + 1e-6)), einsum("i,i...", factor, grad_sample) summed over the batch;
  - noise as DPOptimizer.add_noise: torch.normal(0, sigma * C) per coordinate, then the sum divided by
    the expected batch size, then the wrapped SGD step.

One thread, as the bench's dpgate runs: the bench sets OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
MKL_NUM_THREADS=1 (torch.set_num_threads(1) alone does not reach OpenBLAS), and this script calls
torch.set_num_threads(1) as well.
"""

import sys
import time
from functools import partial

import torch
from torch.utils.data import DataLoader, TensorDataset

ROWS, FEATURES, BATCH = 50_000, 20, 256
NOISE_MULTIPLIER, CLIP_NORM = 1.0, 1.0
MODELS = {
    "logistic": ([], 2),
    "mlp-64": ([64], 2),
    "mlp-256-256": ([256, 256], 2),
    "mlp-256-256-softmax10": ([256, 256], 10),
}


def option(name, default):
    prefix = f"--{name}="
    return next((arg[len(prefix):] for arg in sys.argv[1:] if arg.startswith(prefix)), default)


def build(hidden, classes):
    widths = [FEATURES, *hidden, 1 if classes == 2 else classes]
    layers = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i + 2 < len(widths):
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def generated_data(classes):
    features = torch.rand(ROWS, FEATURES) * 2 - 1
    projections = torch.rand(FEATURES, 1 if classes == 2 else classes) * 2 - 1
    scores = features @ projections
    if classes == 2:
        return features, (scores > 0).float()
    return features, scores.argmax(dim=1)


class PoissonBatches:
    """Opacus's UniformWithReplacementSampler: each row joins each batch independently with rate q."""

    def __init__(self, rows, rate, steps):
        self.rows, self.rate, self.steps = rows, rate, steps

    def __len__(self):
        return self.steps

    def __iter__(self):
        for _ in range(self.steps):
            mask = torch.rand(self.rows) < self.rate
            yield mask.nonzero(as_tuple=False).reshape(-1).tolist()


class PerSampleGradients:
    """GradSampleModule's hooks for nn.Linear: per-sample gradients in `param.grad_sample`."""

    def __init__(self, model):
        self.linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
        for module in self.linears:
            module.register_forward_hook(self.capture_activations)
            module.register_full_backward_hook(partial(self.capture_backprops))

    @staticmethod
    def capture_activations(module, forward_input, _output):
        module.activations = forward_input[0].detach()

    @staticmethod
    def capture_backprops(module, _grad_input, grad_output):
        activations = module.activations
        # The loss is a mean over the batch: the gradient at the output carries a 1/n to undo.
        backprops = grad_output[0].detach() * activations.shape[0]
        module.weight.grad_sample = torch.einsum("n...i,n...j->nij", backprops, activations)
        module.bias.grad_sample = torch.einsum("n...k->nk", backprops)


def dp_step(model, optimizer, parameters, loss_function, x, y, expected_batch):
    optimizer.zero_grad()
    loss_function(model(x), y).backward()
    grad_samples = [p.grad_sample for p in parameters]
    per_param_norms = [g.view(len(g), -1).norm(2, dim=-1) for g in grad_samples]
    per_sample_norms = torch.stack(per_param_norms, dim=1).norm(2, dim=1)
    factor = (CLIP_NORM / (per_sample_norms + 1e-6)).clamp(max=1.0)
    for p, grad_sample in zip(parameters, grad_samples):
        summed = torch.einsum("i,i...", factor, grad_sample)
        noise = torch.normal(mean=0, std=NOISE_MULTIPLIER * CLIP_NORM, size=summed.shape)
        p.grad = (summed + noise) / expected_batch
        del p.grad_sample
    optimizer.step()


def main():
    torch.set_num_threads(1)
    name = option("model", "mlp-64")
    steps = int(option("steps", "300"))
    hidden, classes = MODELS[name]
    features, labels = generated_data(classes)
    model = build(hidden, classes)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_function = torch.nn.BCEWithLogitsLoss() if classes == 2 else torch.nn.CrossEntropyLoss()
    rate = BATCH / ROWS
    dataset = TensorDataset(features, labels)
    try:
        from opacus import PrivacyEngine
    except ImportError:
        PrivacyEngine = None

    if PrivacyEngine is not None:
        loader = DataLoader(dataset, batch_size=BATCH)
        model, optimizer, loader = PrivacyEngine().make_private(
            module=model,
            optimizer=optimizer,
            data_loader=loader,
            noise_multiplier=NOISE_MULTIPLIER,
            max_grad_norm=CLIP_NORM,
            poisson_sampling=True,
        )

        def step(x, y):
            optimizer.zero_grad()
            loss_function(model(x), y).backward()
            optimizer.step()

        batches = lambda: loader  # noqa: E731
    else:
        parameters = [p for p in model.parameters()]
        PerSampleGradients(model)
        step = partial(dp_step, model, optimizer, parameters, loss_function, expected_batch=BATCH * 1.0)
        # Opacus's DPDataLoader: the sampler's indices as batches, rows collated by the DataLoader.
        batches = lambda: DataLoader(dataset, batch_sampler=PoissonBatches(ROWS, rate, int(1 / rate)))  # noqa: E731

    def run(count):
        done = 0
        while done < count:
            for x, y in batches():
                if done == count:
                    return
                if len(x) > 0:
                    step(x, y)
                done += 1

    run(5)  # warm-up, as the bench warms up its JIT
    started = time.process_time()
    run(steps)
    print(f"opacus {'package' if PrivacyEngine else 'algorithm in plain PyTorch'} {torch.__version__}", file=sys.stderr)
    print(steps * BATCH / (time.process_time() - started))


main()
