"""Deck 001's DNN exercise (DNN-Exercise.ipynb), on the bundled breast-cancer data.

The exercise: (1) scale X_train / X_valid to [0, 1]; (2) build a DNN classifier with a
validation accuracy of at least 80% and save the model with the best validation accuracy
as best_model.h5; (3) plot training/validation accuracy and loss.

Only the imports differ from the tensorflow.keras notebook. Files go to the directory
given on the command line (default: a fresh temporary directory), never into the repo:

    python examples/deck001_exercise.py [output_dir]
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))

from baeum.callbacks import EarlyStopping, ModelCheckpoint  # noqa: E402
from baeum.datasets import breast_cancer  # noqa: E402
from baeum.layers import Dense, Dropout  # noqa: E402
from baeum.models import Sequential, load_model  # noqa: E402
from baeum.utils import set_random_seed  # noqa: E402
from _prep import MinMaxScaler, train_test_split  # noqa: E402


def plot_curves(history, path):
    """The notebook's curves, if matplotlib is installed (it is not a baeum dependency)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: skipping the plot")
        return None
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for key in ("loss", "val_loss"):
        ax1.plot(history[key], label=key)
    for key in ("accuracy", "val_accuracy"):
        ax2.plot(history[key], label=key)
    for ax, title in ((ax1, "loss"), (ax2, "accuracy")):
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.legend()
    fig.savefig(path)
    plt.close(fig)
    return path


def main(out_dir=None, epochs=50, verbose=2, seed=42):
    out_dir = out_dir or tempfile.mkdtemp(prefix="baeum_deck001_")
    os.makedirs(out_dir, exist_ok=True)
    set_random_seed(seed)

    # 1. scale to [0, 1] with the training set's min and max
    x, y = breast_cancer.load_data()
    X_train, X_valid, y_train, y_valid = train_test_split(x, y, test_size=0.2, random_state=seed,
                                                          stratify=y)
    scaler = MinMaxScaler()
    scaler.fit(X_train)
    X_train, X_valid = scaler.transform(X_train), scaler.transform(X_valid)

    # 2. a DNN, keeping the model with the best validation accuracy in best_model.h5
    model = Sequential()
    model.add(Dense(64, activation="relu", input_shape=(X_train.shape[1],)))
    model.add(Dropout(0.3))
    model.add(Dense(32, activation="relu"))
    model.add(Dropout(0.3))
    model.add(Dense(16, activation="relu"))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])

    best_path = os.path.join(out_dir, "best_model.h5")
    early_stop = EarlyStopping(monitor="val_loss", patience=8, verbose=1)
    check_point = ModelCheckpoint(best_path, monitor="val_accuracy", save_best_only=True,
                                  verbose=1)
    history = model.fit(X_train, y_train, validation_data=(X_valid, y_valid), epochs=epochs,
                        batch_size=16, callbacks=[early_stop, check_point], verbose=verbose)

    best = load_model(best_path)
    loss, accuracy = best.evaluate(X_valid, y_valid, verbose=0)
    print(f"best model reloaded from {best_path}: val accuracy {accuracy:.4f} "
          f"(val loss {loss:.4f}); best epoch val_accuracy "
          f"{max(history.history['val_accuracy']):.4f}")

    # 3. learning curves
    plot = plot_curves(history.history, os.path.join(out_dir, "curves.png"))
    return {"best_path": best_path, "val_accuracy": accuracy, "history": history.history,
            "plot": plot, "epochs_run": len(history.epoch)}


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
