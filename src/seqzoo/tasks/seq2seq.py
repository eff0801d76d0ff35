"""Many-to-many unaligned (seq2seq), e.g. translation or grapheme-to-phoneme: any encoder reads the
embedded source; any decoder writes the target attending to the encoder's outputs (its memory), and
starting from their masked mean (its condition), which reaches decoders without attention too."""

from seqzoo.data.batch import INPUT_MASK, INPUTS
from seqzoo.layers.pooling import masked_mean
from seqzoo.models.interface import run_encoder
from seqzoo.sizes import with_sizes
from seqzoo.tasks.generative import GenerativeTask
from seqzoo.tasks.inputs import InputEmbedding


class Seq2Seq(GenerativeTask):
    mapping = "seq2seq"

    def __init__(
        self,
        encoder,
        decoder,
        input_vocab_size: int,
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
        self.source_embedding = InputEmbedding(input_vocab_size, embedding_size, None)
        self.encoder = with_sizes(encoder, dict(input_size=embedding_size))
        size = self.encoder.output_size
        self.target_decoder = self.make_target_decoder(decoder, size, size, tie_embeddings, dropout)

    def encode(self, batch: dict):
        mask = batch[INPUT_MASK]
        memory = run_encoder(self.encoder, self.source_embedding(batch[INPUTS]), mask)  # (B, S, D)
        return memory, mask, masked_mean(memory, mask)
