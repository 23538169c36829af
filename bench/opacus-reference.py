"""The reference setting of bench/training.bench.ts (`mlp-64`) in Opacus, for a same-machine comparison.

Generated 50,000 x 20 features uniform in [-1, 1], label the sign of a random projection; a 20-64-1
ReLU MLP with a logistic loss; Poisson sampling at q = 256/50,000; noise multiplier 1, clip norm 1;
SGD with learning rate 0.1 and momentum 0.9; 300 steps. Prints the expected examples per second of
this process's CPU time (steps x 256 / CPU seconds) as its last line, which is what the bench reads.

Run one thread, as the bench's dpgate runs:
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python3 bench/opacus-reference.py
(torch.set_num_threads(1) alone does not reach OpenBLAS.) Needs torch and opacus.
"""

import time

import torch
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset

ROWS, FEATURES, BATCH, STEPS = 50_000, 20, 256, 300

torch.set_num_threads(1)
features = torch.rand(ROWS, FEATURES) * 2 - 1
labels = (features @ (torch.rand(FEATURES) * 2 - 1) > 0).float().unsqueeze(1)
model = torch.nn.Sequential(torch.nn.Linear(FEATURES, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
loader = DataLoader(TensorDataset(features, labels), batch_size=BATCH)
model, optimizer, loader = PrivacyEngine().make_private(
    module=model,
    optimizer=optimizer,
    data_loader=loader,
    noise_multiplier=1.0,
    max_grad_norm=1.0,
    poisson_sampling=True,
)
loss_function = torch.nn.BCEWithLogitsLoss()


def steps(count):
    done = 0
    while done < count:
        for x, y in loader:
            if done == count:
                return
            optimizer.zero_grad()
            loss_function(model(x), y).backward()
            optimizer.step()
            done += 1


steps(5)  # warm-up, as the bench warms up its JIT
started = time.process_time()
steps(STEPS)
print(STEPS * BATCH / (time.process_time() - started))
