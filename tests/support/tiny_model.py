"""Generate a tiny Llama-architecture chat model on disk: random weights, a locally trained tokenizer.

Tests may not download weights, yet the end-to-end test must serve a real model with a real
engine. A Llama with two layers of width 64 and a byte-level BPE tokenizer of a few hundred
tokens, trained here on a few lines of text, is enough for `transformers serve` to load it, apply
its chat template and stream tokens. It writes a few hundred KB and takes a second or two.

Heavy imports (torch, transformers, tokenizers) stay inside `write_tiny_chat_model` so importing
this module costs nothing.
"""

from __future__ import annotations

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


def write_tiny_chat_model(directory: Path, *, seed: int = 0, attention_heads: int = 4, kv_heads: int = 2) -> Path:
    """Write config, safetensors weights, tokenizer and chat template into `directory`.

    The default head size is 16 (width 64 over 4 heads); vLLM's CPU attention needs at least 32,
    so tests that serve it through vLLM ask for `attention_heads=2, kv_heads=1`.
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

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
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        bos_token=None,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(directory)

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=attention_heads,
        num_key_value_heads=kv_heads,
        max_position_embeddings=512,
        eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"),
        bos_token_id=None,
        tie_word_embeddings=True,
        torch_dtype="float32",
    )
    model = LlamaForCausalLM(config)
    model.save_pretrained(directory, safe_serialization=True)
    GenerationConfig(
        eos_token_id=config.eos_token_id, pad_token_id=config.pad_token_id, do_sample=False
    ).save_pretrained(directory)
    return directory


if __name__ == "__main__":
    import sys

    # `--vllm` writes the variant vLLM's CPU backend accepts (head size 32).
    heads = {"attention_heads": 2, "kv_heads": 1} if "--vllm" in sys.argv[2:] else {}
    print(write_tiny_chat_model(Path(sys.argv[1]), **heads))
