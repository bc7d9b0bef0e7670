"""
SynthChat: the training set this project's stage 7 writes with `--format nanochat`, as a nanochat Task.

Each line of that file is one JSON array of messages, user first, user and assistant alternating, ending with the
assistant (stage 7 checks every line before it writes the file). This task reads the file once and hands out
{"messages": [...]} conversations, which is what nanochat's tokenizer.render_conversation takes.

Written for nanochat's Task interface as it is in karpathy/nanochat tasks/common.py at commit 2d4f5fb
(num_examples / get_example, slicing with start/stop/step) and used the way scripts/chat_sft.py at commit 00255c1
uses its other tasks. See docs/nanochat.md in synth-chat-pipeline for the three steps that add it to chat_sft.py.

Copy this file to nanochat's tasks/ folder as tasks/synth_chat.py.
"""

import json
import os

from tasks.common import Task


def _problem(messages):
    """The first reason the row cannot be trained on, or None. Same rules as stage 7's nanochat check."""
    if isinstance(messages, dict) and "messages" in messages:
        return 'an object with "messages": this is a --format messages file; export with --format nanochat'
    if not isinstance(messages, list):
        return f"expected a JSON array of messages, got {type(messages).__name__}"
    if len(messages) < 2:
        return f"expected at least 2 messages, got {len(messages)}"
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or "role" not in message or "content" not in message:
            return f"message {i} needs 'role' and 'content'"
        expected = "user" if i % 2 == 0 else "assistant"
        if message["role"] != expected:
            return f"message {i} has role {message['role']!r} but should be {expected!r}"
        if not isinstance(message["content"], str):
            return f"message {i} content must be a string"
    if len(messages) % 2 != 0:
        return "the last message must be from the assistant"
    return None


class SynthChat(Task):
    """Conversations from synth-chat-pipeline's conversations_final.jsonl (--format nanochat)."""

    def __init__(self, filepath, **kwargs):
        super().__init__(**kwargs)
        if not os.path.exists(filepath):
            raise FileNotFoundError(
                f"{filepath}: not found; write it with `npx tsx 7_select_top.ts --format nanochat` "
                "in synth-chat-pipeline and copy output/conversations_final.jsonl here"
            )
        self.filepath = filepath
        self.conversations = []
        with open(filepath, "r", encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                line = line.strip()
                if not line:
                    continue
                messages = json.loads(line)
                problem = _problem(messages)
                if problem:
                    # A bad line stops the run here, naming itself, rather than failing mid-training.
                    raise ValueError(f"{filepath}:{number}: {problem}")
                self.conversations.append(messages)

    @property
    def eval_type(self):
        return "generative"

    def num_examples(self):
        return len(self.conversations)

    def get_example(self, index):
        return {"messages": self.conversations[index]}
