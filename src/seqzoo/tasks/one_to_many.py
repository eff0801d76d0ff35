"""One-to-many: a vector or an image -> a sequence (e.g. captioning). A conditioning encoder (MLP, small
CNN or torchvision network, chosen by config) gives the decoder its condition (initial RNN state, a
prefix slot for the Transformer, an input to every TCN step) and, for images, a memory of regions."""

from seqzoo.data.batch import CONDITION
from seqzoo.sizes import with_sizes
from seqzoo.tasks.generative import GenerativeTask


class OneToMany(GenerativeTask):
    mapping = "one_to_many"

    def __init__(
        self,
        condition_encoder,
        decoder,
        condition_shape: list[int],
        target_tokens: list[str],
        target_separator: str = "",
        max_target_length: int = 50,
        embedding_size: int = 128,
        tie_embeddings: bool = False,
        dropout: float = 0.0,
        label_smoothing: float = 0.0,
        teacher_forcing: dict | None = None,
        decoding: dict | None = None,
        bleu: bool | None = None,
        metric_names: dict[str, str] | None = None,
        optimizer=None,
        scheduler=None,
    ):
        super().__init__(
            target_tokens=target_tokens,
            target_separator=target_separator,
            max_target_length=max_target_length,
            embedding_size=embedding_size,
            label_smoothing=label_smoothing,
            teacher_forcing=teacher_forcing,
            decoding=decoding,
            bleu=bleu,
            optimizer=optimizer,
            scheduler=scheduler,
            metric_names=metric_names,
        )
        self.condition_shape = list(condition_shape)  # (C, ...) of one condition, e.g. an image's (1, 8, 8)
        self.condition_encoder = with_sizes(condition_encoder, dict(condition_shape=self.condition_shape))
        size = self.condition_encoder.output_size
        self.target_decoder = self.make_target_decoder(decoder, size, size, tie_embeddings, dropout)

    def encode(self, batch: dict):
        condition, memory = self.condition_encoder(batch[CONDITION])  # (B, K), (B, S, K) or None
        return memory, None, condition
