"""Backbones: ``forward(x (B, T, C), mask (B, T)) -> (B, T, D)``, with ``output_size`` = D; and decoders
for generation, each with a teacher-forced ``forward`` and an incremental ``init_state`` + ``step``.

Importing this package needs torch alone (no Lightning, no Hydra), for use in any project.
"""

from seqzoo.models.mamba import Mamba, MambaDecoder
from seqzoo.models.mingru import MinGRU, MinGRUDecoder, MinLSTM, MinLSTMDecoder
from seqzoo.models.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from seqzoo.models.rnn_decoder import RNNDecoder
from seqzoo.models.s4d import S4D, S4DDecoder
from seqzoo.models.tcn import TCN
from seqzoo.models.tcn_decoder import TCNDecoder
from seqzoo.models.transformer import TransformerDecoder, TransformerEncoder

__all__ = [
    "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "TCN", "TransformerEncoder",
    "RNNDecoder", "TCNDecoder", "TransformerDecoder", "MinGRU", "MinLSTM", "MinGRUDecoder", "MinLSTMDecoder",
    "S4D", "S4DDecoder", "Mamba", "MambaDecoder",
]
