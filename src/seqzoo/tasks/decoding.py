"""Generation, written once for every decoder and every task that generates (seq2seq, one-to-many).

All three strategies drive a ``step(tokens (B,), state) -> (log_probs (B, V), state)`` function; beam
search also needs ``reorder(state, index)`` to follow the surviving hypotheses. Each returns tokens
(B, L) that end in ``eos`` (filled with ``eos`` after it) and their summed log-probabilities (B,).
"""

import torch


def finish(tokens: torch.Tensor, logp: torch.Tensor, done: torch.Tensor, eos: int):
    """A finished row emits ``eos`` again at no cost, so rows can be stepped together."""
    tokens = torch.where(done, torch.full_like(tokens, eos), tokens)
    return tokens, torch.where(done, torch.zeros_like(logp), logp)


@torch.no_grad()
def greedy(step, state, batch_size: int, bos: int, eos: int, max_len: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """The most likely next token at every step."""
    tokens = torch.full((batch_size,), bos, dtype=torch.long, device=device)
    done = torch.zeros(batch_size, dtype=torch.bool, device=device)
    score, out = torch.zeros(batch_size, device=device), []
    for _ in range(max_len):
        log_probs, state = step(tokens, state)  # (B, V)
        best, tokens = log_probs.max(-1)
        tokens, best = finish(tokens, best, done, eos)
        score, done = score + best, done | (tokens == eos)
        out.append(tokens)
        if done.all():
            break
    return torch.stack(out, 1), score


def keep_top_k(logits: torch.Tensor, top_k: int | None) -> torch.Tensor:
    """(B, V) -> the same with all but the ``top_k`` largest set to -inf (all kept when ``top_k`` is None)."""
    if top_k is None or top_k >= logits.shape[-1]:
        return logits
    kth = logits.topk(top_k, dim=-1).values[:, -1:]  # (B, 1)
    return logits.masked_fill(logits < kth, float("-inf"))


@torch.no_grad()
def sample(
    step,
    state,
    batch_size: int,
    bos: int,
    eos: int,
    max_len: int,
    device,
    temperature: float = 1.0,
    top_k: int | None = None,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw each token from softmax(logits / temperature), restricted to the ``top_k`` most likely."""
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0 (use greedy for the limit 0), got {temperature}")
    tokens = torch.full((batch_size,), bos, dtype=torch.long, device=device)
    done = torch.zeros(batch_size, dtype=torch.bool, device=device)
    score, out = torch.zeros(batch_size, device=device), []
    for _ in range(max_len):
        log_probs, state = step(tokens, state)
        logits = keep_top_k(log_probs / temperature, top_k)
        tokens = torch.multinomial(logits.softmax(-1), 1, generator=generator).squeeze(1)
        tokens, chosen = finish(tokens, log_probs.gather(1, tokens[:, None]).squeeze(1), done, eos)
        score, done = score + chosen, done | (tokens == eos)
        out.append(tokens)
        if done.all():
            break
    return torch.stack(out, 1), score


def lengths_to_eos(tokens: torch.Tensor, eos: int) -> torch.Tensor:
    """(N, L) -> (N,) length up to and including the first eos (L when there is none)."""
    is_eos = tokens == eos
    first = torch.where(is_eos.any(1), is_eos.float().argmax(1), torch.full_like(tokens[:, 0], tokens.shape[1] - 1))
    return first + 1


def length_penalty(lengths: torch.Tensor, alpha: float) -> torch.Tensor:
    """GNMT's ((5 + |Y|) / 6)^alpha (Wu et al. 2016); alpha = 0 compares raw log-probabilities."""
    return ((5.0 + lengths.float()) / 6.0) ** alpha


@torch.no_grad()
def beam_search(
    step,
    reorder,
    state,
    batch_size: int,
    bos: int,
    eos: int,
    max_len: int,
    device,
    beam_size: int = 4,
    alpha: float = 0.0,
    keep_greedy: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Keep the ``beam_size`` best prefixes by summed log-probability; finished ones stay in the beam at no
    further cost. The winner is the best of the final beam by log-probability / length penalty.

    With ``keep_greedy`` the greedy hypothesis also competes, so beam search never returns a worse-scoring
    hypothesis than greedy (plain beam search can lose the greedy path from its beam on the way).
    """
    b, k = batch_size, beam_size
    if keep_greedy and k > 1:
        fresh = reorder(state, torch.arange(b, device=device))  # steps update states in place: decode a copy
        greedy_tokens, greedy_score = greedy(step, fresh, b, bos, eos, max_len, device)
    state = reorder(state, torch.arange(b, device=device).repeat_interleave(k))  # (B * K, ...)
    scores = torch.full((b, k), float("-inf"), device=device)
    scores[:, 0] = 0.0  # one live hypothesis at the start; the copies wait
    tokens = torch.full((b * k,), bos, dtype=torch.long, device=device)
    history = torch.empty(b * k, 0, dtype=torch.long, device=device)
    done = torch.zeros(b * k, dtype=torch.bool, device=device)
    for _ in range(max_len):
        log_probs, state = step(tokens, state)  # (B * K, V)
        vocab = log_probs.shape[-1]
        frozen = torch.full_like(log_probs, float("-inf"))
        frozen[:, eos] = 0.0
        log_probs = torch.where(done[:, None], frozen, log_probs)
        candidates = (scores.view(-1, 1) + log_probs).view(b, k * vocab)
        scores, flat = candidates.topk(k, dim=-1)  # (B, K)
        parent = (flat // vocab + torch.arange(b, device=device)[:, None] * k).view(-1)  # rows of B * K
        tokens = (flat % vocab).view(-1)
        state, history = reorder(state, parent), torch.cat([history[parent], tokens[:, None]], dim=1)
        done = done[parent] | (tokens == eos)
        if done.all():
            break
    final = scores.view(-1) / length_penalty(lengths_to_eos(history, eos), alpha)
    best = final.view(b, k).argmax(-1) + torch.arange(b, device=device) * k
    out, out_scores = history[best], scores.view(-1)[best]
    if keep_greedy and k > 1:
        g_final = greedy_score / length_penalty(lengths_to_eos(greedy_tokens, eos), alpha)
        use_greedy = g_final > final[best]
        width = max(out.shape[1], greedy_tokens.shape[1])
        out, greedy_tokens = pad_to(out, width, eos), pad_to(greedy_tokens, width, eos)
        out = torch.where(use_greedy[:, None], greedy_tokens, out)
        out_scores = torch.where(use_greedy, greedy_score, out_scores)
    return out, out_scores


def pad_to(tokens: torch.Tensor, width: int, value: int) -> torch.Tensor:
    return torch.nn.functional.pad(tokens, (0, width - tokens.shape[1]), value=value)
