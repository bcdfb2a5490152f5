"""The bf16 forward pass of a BERT sentence encoder without its padding.

A batch of texts is padded to its longest, and the model computes every padded position
as if it were a token. Only attention needs texts side by side; every other step of a
BERT layer (the projections, the feed-forward block, the layer norms) works token by
token. So this runner packs the real tokens of a batch into one ``[tokens, hidden]``
matrix, runs those steps on it, and pads only around attention. On dev passages sorted
by length, a tenth to a sixth of the tokens of a padded batch are padding.

The matrix products run in bfloat16 with the weights cast once (the query, key and value
projections fused into one), the residual stream and the layer norms in float32, as CPU
autocast does. The result is what the model's own forward pass under autocast gives
(cosine to fp32 ≥ 0.9999 on dev passages); the encoder's fidelity check still judges it.

It applies to a sentence-transformers model of a ``BertModel`` with absolute positions and
GELU, mean pooling, and optional normalisation: what ``supports`` checks. torch is
imported lazily.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


def unsupported(model: Any) -> str | None:
    """Why ``model`` cannot run packed, or None when it can."""
    modules = list(model)
    if not 2 <= len(modules) <= 3:
        return f"{len(modules)} modules, not transformer, pooling and normalise"
    bert = getattr(modules[0], "auto_model", None)
    if bert is None or type(bert).__name__ != "BertModel":
        return f"its transformer is {type(bert).__name__}, not BertModel"
    config = bert.config
    if getattr(config, "position_embedding_type", "absolute") != "absolute":
        return "its positions are not absolute"
    if config.hidden_act != "gelu" or config.is_decoder:
        return f"its layers use {config.hidden_act!r}, or it is a decoder"
    if getattr(modules[1], "pooling_mode", None) != "mean":
        return "its pooling is not the mean of the tokens"
    if len(modules) == 3 and type(modules[2]).__name__ != "Normalize":
        return f"its last module is {type(modules[2]).__name__}"
    return None


@dataclass(frozen=True)
class _Layer:
    qkv: Any
    qkv_bias: Any
    out: Any
    out_bias: Any
    norm1: Any
    up: Any
    up_bias: Any
    down: Any
    down_bias: Any
    norm2: Any


class PackedBertRunner:
    """Runs a supported model (see ``unsupported``) in bf16 on its real tokens only."""

    def __init__(self, model: Any) -> None:
        import torch  # noqa: TID253 - rank/ is the one place allowed, lazily

        why = unsupported(model)
        if why is not None:
            raise ValueError(f"the model cannot run packed: {why}")
        bert = model[0].auto_model
        bf16 = torch.bfloat16
        self.embeddings = bert.embeddings
        self.heads = int(bert.config.num_attention_heads)
        self.head_size = int(bert.config.hidden_size) // self.heads
        self.layers = []
        with torch.no_grad():
            for layer in bert.encoder.layer:
                attn = layer.attention.self
                self.layers.append(
                    _Layer(
                        qkv=torch.cat([attn.query.weight, attn.key.weight, attn.value.weight])
                        .to(bf16)
                        .contiguous(),
                        qkv_bias=torch.cat([attn.query.bias, attn.key.bias, attn.value.bias]).to(
                            bf16
                        ),
                        out=layer.attention.output.dense.weight.to(bf16),
                        out_bias=layer.attention.output.dense.bias.to(bf16),
                        norm1=layer.attention.output.LayerNorm,
                        up=layer.intermediate.dense.weight.to(bf16),
                        up_bias=layer.intermediate.dense.bias.to(bf16),
                        down=layer.output.dense.weight.to(bf16),
                        down_bias=layer.output.dense.bias.to(bf16),
                        norm2=layer.output.LayerNorm,
                    )
                )

    def run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        import numpy as np
        import torch  # noqa: TID253

        with torch.inference_mode():
            out = self._forward(torch.from_numpy(ids), torch.from_numpy(mask))
        return np.asarray(out.numpy(), dtype=np.float32)

    def _forward(self, ids: Any, mask: Any) -> Any:
        import torch  # noqa: TID253
        import torch.nn.functional as F  # noqa: N812, TID253

        bf16 = torch.bfloat16
        keep = mask.bool()
        lengths = keep.sum(dim=1)
        batch, width = ids.shape
        heads, size = self.heads, self.head_size
        hidden = heads * size
        emb = self.embeddings
        positions = (keep.cumsum(dim=1) - 1)[keep]
        x = (
            emb.word_embeddings(ids[keep])
            + emb.position_embeddings(positions)
            + emb.token_type_embeddings.weight[0]
        )
        x = emb.LayerNorm(x)  # [tokens, hidden], float32
        keys = keep[:, None, None, :]  # which keys each query may attend to
        for layer in self.layers:
            qkv = F.linear(x.to(bf16), layer.qkv, layer.qkv_bias)
            padded = qkv.new_zeros((batch, width, 3 * hidden))
            padded[keep] = qkv
            q, k, v = padded.view(batch, width, 3, heads, size).permute(2, 0, 3, 1, 4)
            context = F.scaled_dot_product_attention(q, k, v, attn_mask=keys)
            context = context.transpose(1, 2).reshape(batch, width, hidden)[keep]
            x = layer.norm1(F.linear(context, layer.out, layer.out_bias).float() + x)
            h = F.gelu(F.linear(x.to(bf16), layer.up, layer.up_bias))
            x = layer.norm2(F.linear(h, layer.down, layer.down_bias).float() + x)
        rows = torch.repeat_interleave(torch.arange(batch), lengths)
        pooled = x.new_zeros((batch, hidden)).index_add_(0, rows, x)
        pooled = pooled / lengths.clamp(min=1)[:, None].to(pooled.dtype)
        return F.normalize(pooled, p=2, dim=1)
