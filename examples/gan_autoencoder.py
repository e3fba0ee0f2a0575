"""The syllabus after deck 004: an autoencoder and a GAN, both trained with custom loops of
train_on_batch.

* Autoencoder: digits (64 pixels) → 8 numbers → digits, built from a functional encoder and a
  Sequential decoder; the reconstruction error falls epoch after epoch.
* GAN: a generator turns noise into numbers that a discriminator cannot tell from samples of
  N(3, 0.5²). Each step trains the discriminator (trainable) on real and fake samples, then
  the generator through the combined model with the discriminator frozen
  (`discriminator.trainable = False`, effective at the next train_on_batch).
"""
import numpy as np

from baeum.datasets import digits
from baeum.layers import Dense, Input
from baeum.models import Model, Sequential
from baeum.optimizers import Adam
from baeum.utils import set_random_seed


def autoencoder(epochs=15, batch_size=32, seed=0, verbose=0):
    x, _ = digits.load_data()
    x = (x / 16.0).astype(np.float32)
    inputs = Input(shape=(64,), name="pixels")
    code = Dense(8, activation="relu", name="code")(Dense(32, activation="relu")(inputs))
    encoder = Model(inputs, code, name="encoder")
    decoder = Sequential([Input(shape=(8,)), Dense(32, activation="relu"), Dense(64, activation="sigmoid")],
                         name="decoder")
    ae_in = Input(shape=(64,))
    ae = Model(ae_in, decoder(encoder(ae_in)), name="autoencoder")
    ae.compile(optimizer=Adam(learning_rate=3e-3), loss="mse")
    rng = np.random.default_rng(seed)
    losses = []
    for epoch in range(epochs):
        order = rng.permutation(len(x))
        total = 0.0
        for lo in range(0, len(x), batch_size):
            batch = x[order[lo:lo + batch_size]]
            total += ae.train_on_batch(batch, batch) * len(batch)
        losses.append(total / len(x))
        if verbose:
            print(f"autoencoder epoch {epoch + 1}: reconstruction mse {losses[-1]:.4f}")
    return losses


def gan(steps=1500, batch_size=64, seed=0, verbose=0):
    rng = np.random.default_rng(seed)
    real_mean, real_std = 3.0, 0.5
    generator = Sequential([Input(shape=(4,)), Dense(16, activation="relu"), Dense(1)], name="generator")
    discriminator = Sequential([Input(shape=(1,)), Dense(16, activation="relu"), Dense(1, activation="sigmoid")],
                               name="discriminator")
    discriminator.compile(optimizer=Adam(learning_rate=2e-3), loss="binary_crossentropy")
    z = Input(shape=(4,))
    combined = Model(z, discriminator(generator(z)), name="gan")
    combined.compile(optimizer=Adam(learning_rate=2e-3), loss="binary_crossentropy")
    start = generator.predict(rng.standard_normal((1000, 4)), verbose=0)
    for step in range(steps):
        noise = rng.standard_normal((batch_size, 4)).astype(np.float32)
        real = rng.normal(real_mean, real_std, (batch_size, 1)).astype(np.float32)
        fake = generator.predict_on_batch(noise)
        discriminator.trainable = True
        d_loss = discriminator.train_on_batch(np.concatenate([real, fake]),
                                              np.concatenate([np.ones(batch_size), np.zeros(batch_size)]))
        discriminator.trainable = False
        g_loss = combined.train_on_batch(rng.standard_normal((batch_size, 4)), np.ones(batch_size))
        if verbose and (step + 1) % 500 == 0:
            print(f"gan step {step + 1}: d_loss {d_loss:.3f}  g_loss {g_loss:.3f}")
    samples = generator.predict(rng.standard_normal((1000, 4)), verbose=0)
    return {"start_mean": float(start.mean()), "mean": float(samples.mean()), "std": float(samples.std()),
            "real_mean": real_mean, "real_std": real_std}


def main(verbose=0):
    set_random_seed(0)
    losses = autoencoder(verbose=verbose)
    print(f"autoencoder reconstruction mse: {losses[0]:.4f} (epoch 1) -> {losses[-1]:.4f} (epoch {len(losses)})")
    g = gan(verbose=verbose)
    print(f"gan samples: mean {g['start_mean']:.2f} -> {g['mean']:.2f} (real {g['real_mean']}), "
          f"std {g['std']:.2f} (real {g['real_std']})")
    return losses, g


if __name__ == "__main__":
    main(verbose=1)
