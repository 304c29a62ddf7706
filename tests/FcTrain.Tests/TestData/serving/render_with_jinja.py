#!/usr/bin/env python3
"""Renders chat-template cases with jinja2 set up as transformers' apply_chat_template sets it up.

transformers (utils/chat_template_utils.py) compiles chat templates in
ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols]) (plus its
AssistantTracker extension for {% generation %}, which fctrain's template does not use), replaces the tojson filter
with json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys), and defines the
globals raise_exception (raises TemplateError) and strftime_now. It renders with messages, tools,
add_generation_prompt and the tokenizer's special tokens (bos_token, eos_token, ...).

stdin: {"template": "...", "cases": [{"messages": [...], "tools": [...] or null, "add_generation_prompt": bool}]}
stdout: a JSON array, one {"text": ...} or {"error": ...} per case.
"""
import json
import sys
from datetime import datetime

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(format):
    return datetime.now().strftime(format)


def main():
    request = json.load(sys.stdin)
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    template = env.from_string(request["template"])
    results = []
    for case in request["cases"]:
        try:
            text = template.render(messages=case["messages"], tools=case.get("tools"),
                                   add_generation_prompt=case.get("add_generation_prompt", False),
                                   bos_token="<bos>", eos_token="<eos>", pad_token="<pad>", unk_token="<unk>")
            results.append({"text": text})
        except jinja2.exceptions.TemplateError as e:
            results.append({"error": f"{type(e).__name__}: {e}"})
    json.dump(results, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
