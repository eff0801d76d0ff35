"""Backbones: ``forward(x (B, T, C), mask (B, T)) -> (B, T, D)``, with ``output_size`` = D."""

from seqzoo.models.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

__all__ = ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]
