#!/usr/bin/env python3
"""Reviewer's cross-check of the golden renders (not run by the tests; needs jinja2).

Builds the Hugging Face messages for conversations.json independently of the C# code (course preprocessing:
Hermes preamble, system merged into the first user turn, roles human/model/tool; gemma: user/model, tool results
as user turns), renders them with the Jinja sources of the two chat templates (the course's, from the issue, and
google/gemma-2-2b-it's tokenizer_config.json) and compares byte for byte with the checked-in *.txt goldens.
Usage: python3 check_with_jinja.py   (from this folder)
"""
import json, sys
from pathlib import Path
import jinja2

COURSE = "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{{ '<start_of_turn>' + message['role'] + '\n' + message['content'] | trim + '<end_of_turn><eos>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}"
GEMMA = "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}"
ALSO = "Also, before making a call to a function take the time to plan the function to take. Make that thinking process between <think>{your thoughts}</think>\n\n"
PYDANTIC = {"properties": {"arguments": {"title": "Arguments", "type": "object"}, "name": {"title": "Name", "type": "string"}}, "required": ["arguments", "name"], "title": "FunctionCall", "type": "object"}

def canonical(v):
    if isinstance(v, dict): return {k: canonical(v[k]) for k in sorted(v)}
    if isinstance(v, list): return [canonical(x) for x in v]
    return v

def ser(v, kind):
    return json.dumps(v, ensure_ascii=False) if kind == "json" else repr(v)

def text_of(m, kind):
    c = m.get("content")
    return c if isinstance(c, str) else ("" if c is None else ser(canonical(c), kind))

def messages(conv, functions, template, kind):
    course = template == "course"
    offered = [functions[n] for n in conv["functions"]]
    system = ""
    if offered:
        tools = [{"type": "function", "function": {"name": f["name"], "description": f["description"], "parameters": canonical(f["parameters"])}} for f in offered]
        system = ("You are a function calling AI model. You are provided with function signatures within <tools></tools> XML tags."
                  "You may call one or more functions to assist with the user query. Don't make assumptions about what values to plug into functions."
                  "Here are the available tools:<tools> " + ser(tools, kind) + " </tools>Use the following pydantic model json schema for each tool call you will make: "
                  + ser(PYDANTIC, kind) + "For each function call return a json object with function name and arguments within <tool_call></tool_call> XML tags as follows:\n<tool_call>\n{tool_call}\n</tool_call>")
    msgs = list(conv["messages"])
    if msgs and msgs[0]["role"] == "system":
        system = (system + "\n\n" if system else "") + text_of(msgs.pop(0), kind)
    out, calls = [], {}
    for m in msgs:
        if m["role"] == "user":
            content = text_of(m, kind)
            if not out and system: content = system + (ALSO if course else "\n\n") + content
            out.append({"role": "human" if course else "user", "content": content})
        elif m["role"] == "assistant":
            parts = ""
            if m.get("thinking") is not None: parts += "<think>" + m["thinking"] + "</think>"
            if m.get("content") is not None: parts += text_of(m, kind)
            for i, c in enumerate(m.get("tool_calls") or []):
                if c.get("id"): calls[c["id"]] = c["name"]
                if i > 0 or m.get("content") is not None: parts += "\n"
                parts += "<tool_call>\n" + ser({"name": c["name"], "arguments": canonical(c["arguments"])}, kind) + "\n</tool_call>"
            out.append({"role": "model" if course else "assistant", "content": parts})
        elif m["role"] == "tool":
            name = m.get("name") or calls[m["tool_call_id"]]
            resp = "<tool_response>\n" + ser({"name": name, "content": canonical(m.get("content"))}, kind) + "\n</tool_response>"
            if not course and out and out[-1]["role"] == "user" and out[-1]["content"].startswith("<tool_response>"):
                out[-1]["content"] += "\n" + resp
            else:
                out.append({"role": "tool" if course else "user", "content": resp})
    return out

def render(template, msgs, gen=False):
    env = jinja2.Environment()
    def raise_exception(m): raise ValueError(m)
    env.globals["raise_exception"] = raise_exception
    return env.from_string(COURSE if template == "course" else GEMMA).render(messages=msgs, bos_token="<bos>", add_generation_prompt=gen)

here = Path(__file__).parent
functions = {f["name"]: f for f in json.loads((here / "functions.json").read_text())}
failures = checked = 0
for conv in json.loads((here / "conversations.json").read_text()):
    for template, kind in [("course", "json"), ("course", "hermes"), ("gemma", "json")]:
        golden = here / f"{conv['id']}.{template}.{kind}.txt"
        expected = render(template, messages(conv, functions, template, kind))
        checked += 1
        if golden.read_text(encoding="utf-8") != expected:
            failures += 1
            print(f"DIFFERS: {golden.name}")
    if conv["id"] == "single-call":
        for template in ("course", "gemma"):
            golden = here / f"single-call.{template}.prompt.txt"
            checked += 1
            if golden.read_text(encoding="utf-8") != render(template, messages({**conv, "messages": conv["messages"][:1]}, functions, template, "json"), gen=True):
                failures += 1
                print(f"DIFFERS: {golden.name}")
print(f"{checked - failures}/{checked} golden renders equal jinja2's")
sys.exit(1 if failures else 0)
