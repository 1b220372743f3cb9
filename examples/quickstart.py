import os

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")  # 8 CPU devices for shard_map

import jax
import jax.numpy as jnp
from jax.sharding import NamedSharding, PartitionSpec as P

import jaxmetrics
from jaxmetrics import classification as jmc

key_x, key_y = jax.random.split(jax.random.key(0))
labels = jax.random.randint(key_y, (4096,), 0, 3)
logits = jax.random.normal(key_x, (4096, 3)) + 2.0 * jax.nn.one_hot(labels, 3)

# 1. One-shot metrics: pure functions of arrays (masks and weights everywhere).
print("accuracy ", jmc.accuracy(logits, labels))
print("macro F1 ", jmc.f1(logits, labels, average="macro"))
print("AUROC ovr", jmc.auroc(jax.nn.softmax(logits), labels, multi_class="ovr"))

# 2. The same metric streamed over batches: init / update / merge / compute.
f1_stream = jmc.f1_metric(num_classes=3, average="macro")
state_a = f1_stream.update(f1_stream.init(), logits[:2048], labels[:2048])
state_b = f1_stream.update(f1_stream.init(), logits[2048:], labels[2048:])
print("streamed F1", f1_stream.compute(f1_stream.merge(state_a, state_b)))

# 3. jit: metrics run inside compiled code (static config is keyword-only).
fast_f1 = jax.jit(jmc.f1, static_argnames=("average",))
print("jitted F1", fast_f1(logits, labels, average="macro"))

# 4. vmap over seeds: one call evaluates 8 bootstrap resamples.
idx = jax.random.randint(jax.random.key(1), (8, 4096), 0, 4096)
per_seed = jax.vmap(lambda i: jmc.accuracy(logits[i], labels[i]))(idx)
print("bootstrap accuracy: mean %.4f std %.4f" % (per_seed.mean(), per_seed.std()))

# 5. grad through a soft_* twin: a differentiable surrogate of F1 as a training signal.
def loss(scale):
    return 1.0 - jmc.soft_f_beta(jax.nn.softmax(scale * logits), labels, average="macro")

print("d(1 - soft F1)/d(scale)", jax.grad(loss)(1.0))

# 6. psum under shard_map: every device updates on its shard, states are summed across devices.
mesh = jax.make_mesh((jax.device_count(),), ("data",))
acc = jmc.accuracy_metric()

def sharded_accuracy(x, y):
    state = acc.update(acc.init(), x, y)
    return jaxmetrics.parallel.reduce_state(acc, state, "data")  # psum of (correct, total)

sharded = jax.jit(jax.shard_map(sharded_accuracy, mesh=mesh, in_specs=(P("data"), P("data")), out_specs=P()))
shard = lambda x: jax.device_put(x, NamedSharding(mesh, P("data")))  # noqa: E731
print("sharded accuracy", acc.compute(sharded(shard(logits), shard(labels))), "on", jax.device_count(), "devices")
