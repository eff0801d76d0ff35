"""Backbones: ``forward(x (B, T, C), mask (B, T)) -> (B, T, D)``, with ``output_size`` = D; decoders
for generation, each with a teacher-forced ``forward`` and an incremental ``init_state`` + ``step``; and direct
forecasters (DLinear, N-BEATS): ``forward(x (B, L, C)) -> (B, H, K, outputs)``.

Importing this package needs torch alone (no Lightning, no Hydra), for use in any project. The classes are
imported here so ``from seqzoo.models import LSTM`` works; which families exist is the registry's business
(``list_models()``, read from ``configs/model/``), not a list kept in this file.
"""

from seqzoo.models.dlinear import DLinear
from seqzoo.models.fcn import FCN
from seqzoo.models.inception import InceptionTime
from seqzoo.models.lru import LRU, LRUDecoder
from seqzoo.models.mamba import Mamba, MambaDecoder
from seqzoo.models.mamba2 import Mamba2, Mamba2Decoder
from seqzoo.models.mingru import MinGRU, MinGRUDecoder, MinLSTM, MinLSTMDecoder
from seqzoo.models.mlstm import MLSTM, MLSTMDecoder
from seqzoo.models.nbeats import NBEATS
from seqzoo.models.registry import create_model, list_models
from seqzoo.models.resnet import ResNet
from seqzoo.models.rglru import Hawk, HawkDecoder
from seqzoo.models.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell, RNNDecoder
from seqzoo.models.s4d import S4D, S4DDecoder
from seqzoo.models.tcn import TCN, TCNDecoder
from seqzoo.models.transformer import TransformerDecoder, TransformerEncoder
