import numpy as np

from seqzoo.baselines import nearest_neighbour, resample


def test_resample_keeps_the_ends_and_interpolates_linearly():
    s = np.array([[0.0, 10.0], [2.0, 10.0], [np.nan, 4.0]])  # (T=3, C=2); NaN counts as 0
    out = resample(s, 5)
    assert out.shape == (5, 2)
    np.testing.assert_array_equal(out[:, 0], [0, 1, 2, 1, 0])
    np.testing.assert_array_equal(out[:, 1], [10, 10, 10, 7, 4])


def test_nearest_neighbour_returns_the_label_of_the_closest_training_series():
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 30)[:, None]
    train = [np.sin(6 * t), np.cos(6 * t), t]  # three shapes, three labels
    test = [np.cos(6 * t) + 0.05 * rng.standard_normal((30, 1)), t[::2] + 0.01, np.sin(6 * t) - 0.05]
    assert list(nearest_neighbour(train, ["sin", "cos", "ramp"], test)) == ["cos", "ramp", "sin"]
