"""Generate a tiny Llama-architecture chat model on disk: random weights, a locally trained tokenizer.

Serving a real model with a real engine must work offline (`mdeploy demo`, the tests), without
downloading weights. A Llama with two layers of width 64 and a byte-level BPE tokenizer of a few
hundred tokens, trained here on a few lines of text, is enough for `transformers serve` and
vLLM to load it, apply its chat template and stream tokens (gibberish, from random weights). It
writes about 500 KB and takes a few seconds (mostly importing torch).

Its shape is the smallest every local engine accepts:
- 2 attention heads of 32 (1 key/value head): vLLM's CPU attention needs a head size of at least
  32; with 16 it answers /health and then dies on the first request;
- `max_position_embeddings` of 32768, the largest `max_model_len` a shipped manifest asks for,
  so the same folder can stand in for any of their models (vLLM refuses a longer context than the
  model's).

    python -m engine.local.tiny_model DIR

Heavy imports (torch, transformers, tokenizers) stay inside `write_tiny_chat_model`, so importing
this module costs nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# ChatML, as Qwen and many instruct models use; `add_generation_prompt` opens the reply.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
_CORPUS = (
    "The quick brown fox jumps over the lazy dog.",
    "Modal runs containers with GPUs; mdeploy turns manifests into Modal apps.",
    "Hello! How can I help you today? Tell me a short story about a robot.",
    "user assistant system: the answer is 42, said the model, counting 0 1 2 3 4 5 6 7 8 9.",
)
VOCAB_SIZE = 384
HIDDEN_SIZE = 64
ATTENTION_HEADS = 2  # head size 64 / 2 = 32, the least vLLM's CPU attention accepts
KV_HEADS = 1
MAX_POSITIONS = 32768  # >= every max_model_len in manifests/ (a test checks it)


def write_tiny_chat_model(
    directory: Path, *, seed: int = 0, attention_heads: int = ATTENTION_HEADS, kv_heads: int = KV_HEADS
) -> Path:
    """Write config, safetensors weights, tokenizer and chat template into `directory`."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast
    from transformers.utils import logging as transformers_logging

    # "Writing model shards" for one 0.5 MB file. (transformers leaves this function, the
    # tokenizer's __init__ and GenerationConfig's unannotated: hence the ignores below.)
    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(_CORPUS * 4, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=bpe,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        bos_token=None,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(directory)

    pad_token_id = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    if not isinstance(pad_token_id, int):  # one token asks for one id; a list comes only for a list
        raise TypeError(f"the tokenizer gave {pad_token_id!r} as the id of one token")
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=HIDDEN_SIZE,
        intermediate_size=2 * HIDDEN_SIZE,
        num_hidden_layers=2,
        num_attention_heads=attention_heads,
        num_key_value_heads=kv_heads,
        max_position_embeddings=MAX_POSITIONS,
        eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=pad_token_id,
        bos_token_id=None,
        # Untied: a random output layer of its own. Tied to the input embeddings, a random model
        # repeats the last prompt token ("\n" after the chat template) for ever.
        tie_word_embeddings=False,
        dtype="float32",  # written to config.json as "dtype" (torch_dtype, its old name, writes the same)
    )
    model = LlamaForCausalLM(config)
    model.save_pretrained(directory, safe_serialization=True)
    GenerationConfig(  # type: ignore[no-untyped-call]
        eos_token_id=config.eos_token_id, pad_token_id=config.pad_token_id, do_sample=False
    ).save_pretrained(directory)
    return directory


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m engine.local.tiny_model",
        description=(
            "Write a tiny random Llama chat model (about 500 KB: config.json, safetensors weights, "
            "tokenizer, chat template) into DIR, for serving offline with transformers serve or vLLM. "
            "Its answers are gibberish."
        ),
    )
    parser.add_argument(
        "directory", metavar="DIR", type=Path, help="the folder to write (created; files in it are replaced)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights (default: 0)")
    parser.add_argument(
        "--attention-heads",
        type=int,
        default=ATTENTION_HEADS,
        help=f"attention heads over the width of {HIDDEN_SIZE} (default: {ATTENTION_HEADS}, head size 32)",
    )
    parser.add_argument("--kv-heads", type=int, default=KV_HEADS, help=f"key/value heads (default: {KV_HEADS})")
    # Before head size 32 was the default, --vllm asked for it; kept so old command lines still run.
    parser.add_argument("--vllm", action="store_true", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if (
        min(args.attention_heads, args.kv_heads) < 1
        or HIDDEN_SIZE % args.attention_heads
        or args.attention_heads % args.kv_heads
    ):
        print(
            f"error: --attention-heads must divide {HIDDEN_SIZE} and be a positive multiple of --kv-heads",
            file=sys.stderr,
        )
        return 2
    print(
        write_tiny_chat_model(
            args.directory, seed=args.seed, attention_heads=args.attention_heads, kv_heads=args.kv_heads
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
